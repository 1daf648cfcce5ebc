import { describe, expect, it } from 'vitest';
import {
  cannedAnswer,
  composeAnswer,
  extractScene,
  type ChatInput,
} from '../../../../firmware-ts/dev/dev-cloud/answer.js';
import { answerFor, pieces } from '../../../../firmware-ts/dev/dev-cloud/chat.js';
import { questionText, sceneText } from '../../../../firmware-ts/src/cloud/messages.js';

const input = (over: Partial<ChatInput>): ChatInput => ({
  systemTexts: [],
  userTexts: [],
  audio: false,
  image: false,
  ...over,
});

const sentences = (s: string): string[] => s.split(/(?<=[.!?])\s+(?=[A-Z])/);

describe('extractScene', () => {
  it('reads labelled lines, dropping detector scores, and keeps the rest as the question', () => {
    const { scene, rest } = extractScene([
      'Objects: cup (0.82), laptop 0.55; person\nText read: NESCAFE GOLD\nPrices: ¥12.50, ¥1,299\nwhat is this',
    ]);
    expect(scene).toEqual({
      objects: ['cup', 'laptop', 'person'],
      text: ['NESCAFE GOLD'],
      prices: ['¥12.50', '¥1,299'],
    });
    expect(rest).toEqual(['what is this']);
  });

  it('reads a JSON scene and ignores empty values', () => {
    const json = JSON.stringify({
      objects: [{ label: 'apple', score: 0.9 }],
      text: [{ text: 'Fuji' }],
      prices: [{ amount: 12.8, currency: 'CNY' }],
    });
    expect(extractScene([json]).scene).toEqual({ objects: ['apple'], text: ['Fuji'], prices: ['12.8 CNY'] });
    expect(extractScene(['Objects: none\nText read: -\nPrices:']).scene).toEqual({
      objects: [],
      text: [],
      prices: [],
    });
  });
});

describe('what the device sends (cloud/messages.ts)', () => {
  it('reads its scene text and unsure transcript', () => {
    const scene = sceneText({
      source: 'test',
      width: 100,
      height: 100,
      objects: [
        { label: 'cup', classId: 41, score: 0.82, box: [40, 40, 20, 20] },
        { label: 'laptop', classId: 63, score: 0.55, box: [0, 0, 10, 10] },
      ],
      lines: [{ text: 'NESCAFE', score: 0.9, box: [40, 40, 20, 5] }],
      prices: [{ amount: 12.5, currency: 'CNY', text: '¥12.50' }],
    });
    const question = questionText(
      { pcm: new Int16Array(1600), transcript: 'what is this', confidence: 0.2 },
      0.6,
    );
    const a = composeAnswer({
      systemTexts: ['You are glasses.'],
      userTexts: [scene, question],
      audio: true,
      image: false,
    });
    expect(a).toMatch(
      /^Development cloud: I received your question as audio; the device heard "what is this"\. /,
    );
    expect(a).toContain('You are looking at a cup and a laptop, with the text "NESCAFE" and the price');
    expect(a).not.toMatch(/camera sees|in focus|inaccurate|attached/);
  });

  it('reads a scene with nothing recognised and a question it could not transcribe', () => {
    const scene = sceneText({ source: 'test', width: 100, height: 100, objects: [] });
    const question = questionText({ pcm: new Int16Array(1600), transcript: '', confidence: 0 }, 0.6);
    expect(composeAnswer(input({ userTexts: [scene, question], audio: true }))).toBe(
      'Development cloud: I received your question as audio. A real model would answer here.',
    );
  });
});

describe('composeAnswer', () => {
  it('says it is the development cloud, echoes the question and answers a known one, in 1-3 sentences', () => {
    const a = composeAnswer(input({ userTexts: ['What is the capital of France?'] }));
    expect(a).toBe(
      'Development cloud: you asked "What is the capital of France". The capital of France is Paris.',
    );
  });

  it('mentions the scene from the system message and the picture', () => {
    const a = composeAnswer(
      input({
        systemTexts: [
          'You are the voice of smart glasses.\nObjects: cup, laptop\nText read: Nescafe\nPrices: ¥12.50',
        ],
        userTexts: ['Question: what is this'],
        image: true,
      }),
    );
    expect(a).toMatch(/^Development cloud: you asked "what is this", with a picture\./);
    expect(a).toContain(
      'You are looking at a cup and a laptop, with the text "Nescafe" and the price ¥12.50.',
    );
    expect(a).not.toContain('voice of smart glasses');
    expect(sentences(a)).toHaveLength(3);
  });

  it('says so when the question came as audio, with or without a transcript', () => {
    expect(composeAnswer(input({ audio: true }))).toMatch(
      /^Development cloud: I received your question as audio\./,
    );
    expect(
      composeAnswer(input({ audio: true, image: true, userTexts: ['Transcript (unsure): two plus two'] })),
    ).toBe(
      'Development cloud: I received your question as audio and a picture; the device heard "two plus two". ' +
        'A real model would answer here.',
    );
  });

  it('keeps quoted text from ending a sentence early, and long questions short', () => {
    const a = composeAnswer(input({ userTexts: [`Is this ok? I wonder. ${'very '.repeat(40)}long`] }));
    expect(sentences(a)).toHaveLength(2);
    expect(a.length).toBeLessThan(200);
  });
});

describe('cannedAnswer', () => {
  it.each([
    ['what is the capital of france', 'The capital of France is Paris.'],
    ["what's the capital of the UK?", 'The capital of the UK is London.'],
    ['what is 12 times 3', '12 times 3 is 36.'],
    ['7 divided by 2', '7 divided by 2 is 3.5.'],
    ['tell me a joke', 'Why did the robot wear glasses? To improve its vision.'],
  ])('%s -> %s', (q, a) => {
    expect(cannedAnswer(q)).toBe(a);
  });

  it('has nothing for other questions', () => {
    expect(cannedAnswer('what is the meaning of life')).toBeUndefined();
  });
});

describe('answerFor', () => {
  it('takes the question from the last user message and attachments from its parts only', () => {
    const a = answerFor({
      model: 'qwen-plus',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AA' } }] },
        { role: 'assistant', content: 'It is a cup.' },
        { role: 'user', content: [{ type: 'text', text: 'what is 2 plus 2' }] },
      ],
    });
    expect(a).toBe('Development cloud: you asked "what is 2 plus 2". 2 plus 2 is 4.');
  });

  it('streams in word pieces that join back to the answer', () => {
    const a = 'Development cloud: you asked "hi". Hello, I can hear you.';
    expect(pieces(a).join('')).toBe(a);
    expect(pieces(a).length).toBeGreaterThan(5);
  });
});
