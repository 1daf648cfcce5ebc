/**
 * What leaves the device with an open question: the scene only when the turn saw one, the audio only
 * when the transcript is unsure, the image only when allowed, and no more history than configured.
 */
import { describe, expect, it } from 'vitest';
import {
  aboutWhatIsSeen,
  buildMessages,
  questionParts,
  questionText,
  sceneText,
  SYSTEM_PROMPT,
  TurnHistory,
  type ContentPart,
  type MessagesInput,
  type SceneForMessages,
} from '../../../firmware-ts/src/cloud/messages.js';
import type { Question } from '../../../firmware-ts/src/voice-loop/ports.js';

const question = (confidence: number, transcript = 'what is the weather like'): Question => ({
  pcm: new Int16Array(1600).fill(100),
  transcript,
  confidence,
});

const scene: SceneForMessages = {
  source: 'test.jpg',
  width: 640,
  height: 480,
  objects: [
    { label: 'laptop', classId: 63, score: 0.8, box: [0, 0, 100, 80] },
    { label: 'cup', classId: 41, score: 0.9, box: [280, 200, 80, 80] },
  ],
  lines: [
    { text: 'Fresh apples', score: 0.95, box: [250, 150, 140, 20] },
    { text: '¥12.50', score: 0.9, box: [280, 180, 80, 20] },
  ],
  prices: [{ amount: 12.5, currency: 'CNY', text: '¥12.50' }],
};

const input = (over: Partial<MessagesInput> = {}): MessagesInput => ({
  question: question(0.9),
  scene: undefined,
  history: [],
  audioBelowConfidence: 0.6,
  sendImages: false,
  ...over,
});

const types = (parts: ContentPart[]): string[] => parts.map((p) => p.type);

describe('questionParts', () => {
  it('is the question alone when the turn saw nothing', () => {
    const parts = questionParts(input());
    expect(parts).toEqual([{ type: 'text', text: 'what is the weather like' }]);
  });

  it('puts the scene first, the focused object first within it', () => {
    const parts = questionParts(input({ scene }));
    expect(types(parts)).toEqual(['text', 'text']);
    const text = parts[0]?.type === 'text' ? parts[0].text : '';
    expect(text).toMatch(/Objects: cup \(in focus, 90%\), laptop \(80%\)\./);
    expect(text).toContain('Text read: "Fresh apples / ¥12.50"');
    expect(text).toContain('Prices seen: 12 yuan 50.');
  });

  it('attaches the audio only below the confidence, as a 16 kHz mono WAV', () => {
    expect(types(questionParts(input({ question: question(0.6) })))).toEqual(['text']);
    const parts = questionParts(input({ question: question(0.59) }));
    expect(types(parts)).toEqual(['text', 'input_audio']);
    const audio = parts[1]?.type === 'input_audio' ? parts[1].input_audio : undefined;
    expect(audio?.format).toBe('wav');
    const wav = Buffer.from(audio?.data ?? '', 'base64');
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.readUInt16LE(22)).toBe(1);
    expect(wav.readUInt32LE(24)).toBe(16_000);
    expect(wav.length).toBe(44 + 1600 * 2);
  });

  it('marks an unsure transcript as possibly inaccurate', () => {
    expect(questionText(question(0.9), 0.6)).toBe('what is the weather like');
    expect(questionText(question(0.2), 0.6)).toBe(
      '(On-device transcript, possibly inaccurate:) what is the weather like The audio of the question is attached.',
    );
    expect(questionText(question(0.9, ' '), 0.6)).toMatch(/could not transcribe/);
  });

  it('sends the image only when allowed and the scene has one', () => {
    const withImage: SceneForMessages = { ...scene, image: { jpeg: new Uint8Array([0xff, 0xd8, 0xff]) } };
    expect(types(questionParts(input({ scene: withImage })))).toEqual(['text', 'text']);
    expect(types(questionParts(input({ scene, sendImages: true })))).toEqual(['text', 'text']);
    const parts = questionParts(input({ scene: withImage, sendImages: true }));
    expect(types(parts)).toEqual(['text', 'text', 'image_url']);
    const image = parts[2]?.type === 'image_url' ? parts[2].image_url.url : '';
    expect(image).toBe('data:image/jpeg;base64,/9j/');
  });

  it('sends the audio rather than the image when the transcript is unsure: one medium per request', () => {
    const withImage: SceneForMessages = { ...scene, image: { jpeg: new Uint8Array([0xff, 0xd8, 0xff]) } };
    const parts = questionParts({
      ...input({ scene: withImage, sendImages: true }),
      question: question(0.1),
    });
    expect(types(parts)).toEqual(['text', 'text', 'input_audio']);
  });
});

describe('sceneText', () => {
  it('says when no object was recognised and leaves out what OCR did not find', () => {
    const text = sceneText({ source: 'x', width: 10, height: 10, objects: [] });
    expect(text).toContain('Objects: none recognised.');
    expect(text).not.toContain('Text read');
    expect(text).not.toContain('Prices');
  });

  it('caps long text read off the world', () => {
    const lines = Array.from({ length: 100 }, (_, i) => ({
      text: `line ${i} of a long menu`,
      score: 0.9,
      box: [0, i * 10, 100, 10] as [number, number, number, number],
    }));
    const text = sceneText({ source: 'x', width: 100, height: 1000, objects: [], lines });
    expect(text.length).toBeLessThan(800);
    expect(text).toContain('…');
  });
});

describe('buildMessages', () => {
  it('is the system prompt, the earlier turns oldest first, then the question', () => {
    const messages = buildMessages(
      input({
        history: [
          { question: 'q1', answer: 'a1' },
          { question: 'q2', answer: 'a2' },
        ],
      }),
    );
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user']);
    expect(messages[0]?.content).toBe(SYSTEM_PROMPT);
    expect(messages.slice(1, 5).map((m) => m.content)).toEqual(['q1', 'a1', 'q2', 'a2']);
  });

  it('asks for short spoken answers in the language of the question', () => {
    expect(SYSTEM_PROMPT).toMatch(/one to three short sentences/);
    expect(SYSTEM_PROMPT).toMatch(/no markdown, no lists/);
    expect(SYSTEM_PROMPT).toMatch(/language of the question/);
  });
});

describe('TurnHistory', () => {
  it('keeps the last N turns', () => {
    const h = new TurnHistory(2);
    for (const n of [1, 2, 3]) h.add({ question: `q${n}`, answer: `a${n}` });
    expect(h.turns().map((t) => t.question)).toEqual(['q2', 'q3']);
    h.clear();
    expect(h.turns()).toEqual([]);
  });

  it('keeps nothing when history is off', () => {
    const h = new TurnHistory(0);
    h.add({ question: 'q', answer: 'a' });
    expect(h.turns()).toEqual([]);
  });
});

describe('aboutWhatIsSeen', () => {
  it('is true for questions that point at what the wearer sees, false otherwise', () => {
    for (const q of ['what brand is this', 'is that ripe', 'what do you see', 'how old are these shoes']) {
      expect(aboutWhatIsSeen(q), q).toBe(true);
    }
    for (const q of ['what is the capital of france', 'tell me a joke', 'thistle', '']) {
      expect(aboutWhatIsSeen(q), q).toBe(false);
    }
  });
});
