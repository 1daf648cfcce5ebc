/**
 * The real pocketsphinx (Debian 0.8+5prealpha) on utterances espeak-ng speaks into a temp dir:
 * commands come back accepted with their intent, open questions rejected.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWavAs16kMono } from '../../../firmware-ts/src/audio/wav.js';
import { isGlassesError } from '../../../firmware-ts/src/errors.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import {
  buildDictionary,
  conditionAudio,
  findSpeech,
  parseBacktrace,
  PocketsphinxRecognizer,
} from '../../../firmware-ts/src/speech/pocketsphinx.js';

const run = promisify(execFile);
const never = new AbortController().signal;

/** 0.3 s before and 0.6 s after the speech, as the endpointer cuts an utterance. */
async function say(dir: string, text: string, voice = 'en-us', wordsPerMinute = 160): Promise<Int16Array> {
  const file = join(dir, `${voice}-${wordsPerMinute}-${text.replace(/\W+/g, '_')}.wav`);
  await run('espeak-ng', ['-v', voice, '-s', String(wordsPerMinute), '-w', file, text]);
  const { pcm } = await readWavAs16kMono(file);
  const out = new Int16Array(4800 + pcm.length + 9600);
  out.set(pcm, 4800);
  return out;
}

let dir: string;
let recognizer: PocketsphinxRecognizer;

beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'glasses-speech-test-'));
  recognizer = new PocketsphinxRecognizer({ log: silentLogger(), tempRoot: join(dir, 'work') });
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('PocketsphinxRecognizer on espeak-ng speech', () => {
  it.each([
    ['what is this', 'en-us', 160, { name: 'identify', slots: {} }],
    ['how much is this', 'en-us', 160, { name: 'price', slots: {} }],
    ['buy two of these', 'en-us', 160, { name: 'buy', slots: { quantity: 2 } }],
    ['order a coffee', 'en-gb-x-rp', 150, { name: 'order', slots: { item: 'coffee' } }],
    ['what time is it', 'en-us', 160, { name: 'time', slots: {} }],
    ['where is my order', 'en-us+f3', 160, { name: 'order_status', slots: {} }],
  ])('accepts "%s" (%s, %i wpm) as %j', async (text, voice, wpm, intent) => {
    const r = await recognizer.recognize(await say(dir, text, voice, wpm), never);
    expect(r.transcript).toBe(text);
    expect(r.intent).toEqual(intent);
    expect(r.accepted).toBe(true);
    expect(r.confidence).toBeGreaterThanOrEqual(0.5);
    expect(r.ms).toBeGreaterThan(0);
  });

  it.each([
    ['what is the capital of france', 'en-us'],
    ['tell me a joke', 'en-us'],
    ['what is the capital of france', 'en-gb-x-rp'],
    ['tell me a joke', 'en-us+f3'],
    ['how tall is mount everest', 'en-us'],
  ])('rejects the open question "%s" (%s)', async (text, voice) => {
    const r = await recognizer.recognize(await say(dir, text, voice), never);
    expect(r.accepted).toBe(false);
    expect(r.confidence).toBeLessThan(0.5);
  });

  it('gives the same answer for the same audio', async () => {
    const pcm = await say(dir, 'buy two of these');
    const a = await recognizer.recognize(pcm, never);
    const b = await recognizer.recognize(pcm, never);
    expect({ ...b, ms: 0 }).toEqual({ ...a, ms: 0 });
  });

  it('hears nothing in silence or in steady noise', async () => {
    const silence = await recognizer.recognize(new Int16Array(16000), never);
    expect(silence).toMatchObject({ transcript: '', intent: undefined, accepted: false, confidence: 0 });
    let seed = 1;
    const hiss = Int16Array.from({ length: 16000 }, () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.round((seed / 2147483648 - 0.5) * 2000);
    });
    expect((await recognizer.recognize(hiss, never)).accepted).toBe(false);
  });

  it('stops with E_ABORTED when the signal aborts, before or during the decode', async () => {
    const pcm = await say(dir, 'what am i looking at');
    const before = new AbortController();
    before.abort();
    await expect(recognizer.recognize(pcm, before.signal)).rejects.toSatisfy((e) =>
      isGlassesError(e, 'E_ABORTED'),
    );
    const during = new AbortController();
    const pending = recognizer.recognize(pcm, during.signal);
    setTimeout(() => {
      during.abort();
    }, 20);
    const started = performance.now();
    await expect(pending).rejects.toSatisfy((e) => isGlassesError(e, 'E_ABORTED'));
    expect(performance.now() - started).toBeLessThan(1000);
    // No utterance file is left behind.
    const left = (await fs.readdir(join(dir, 'work'), { recursive: true })).filter((f) =>
      f.includes('utterance-'),
    );
    expect(left).toEqual([]);
  });

  it('names the decoder when it cannot start, and the folder when the model is missing', async () => {
    const pcm = await say(dir, 'stop');
    const noDecoder = new PocketsphinxRecognizer({
      log: silentLogger(),
      decoder: 'no-such-pocketsphinx',
      tempRoot: join(dir, 'work'),
    });
    await expect(noDecoder.recognize(pcm, never)).rejects.toThrow(
      /cannot start no-such-pocketsphinx.*pocketsphinx/,
    );
    const noModel = new PocketsphinxRecognizer({
      log: silentLogger(),
      modelDir: join(dir, 'no-model'),
      tempRoot: join(dir, 'work'),
    });
    await expect(noModel.recognize(pcm, never)).rejects.toThrow(/pocketsphinx model is not in .*no-model/);
  });
});

describe('pocketsphinx helpers', () => {
  it('parses the backtrace of a decoder log', () => {
    const log = [
      'INFO: fsg_search.c(868): fsg 0.04 CPU 0.017 xRT',
      'INFO: pocketsphinx.c(1168): read this (-3830)',
      'word                 start end   pprob ascr       lscr       lback',
      '<sil>                0     27    1.000 -530       -337       1  ',
      'read(2)              28    52    1.000 -692       0          1  ',
      'this                 53    70    1.000 -202       0          1  ',
      'INFO: cmn_live.c(120): Update from < 41.00 >',
    ].join('\n');
    expect(parseBacktrace(log)).toEqual({
      hypothesis: 'read this',
      segments: [
        { word: '<sil>', startFrame: 0, endFrame: 27, acousticScore: -530 },
        { word: 'read(2)', startFrame: 28, endFrame: 52, acousticScore: -692 },
        { word: 'this', startFrame: 53, endFrame: 70, acousticScore: -202 },
      ],
    });
    expect(parseBacktrace('INFO: fsg_search.c(853): 0 frames\n')).toBeUndefined();
  });

  it('cuts the dictionary to the words asked for, with alternates, plus a word per phone', () => {
    const cmudict = 'read R EH D\nread(2) R IY D\nred R EH D\nthis DH IH S\n';
    const { dict, phones } = buildDictionary(cmudict, ['read', 'this']);
    expect(phones).toEqual(['D', 'DH', 'EH', 'IH', 'IY', 'R', 'S']);
    expect(dict.split('\n')).toEqual(
      expect.arrayContaining(['read R EH D', 'read(2) R IY D', 'this DH IH S', 'ph_dh DH', 'ph_iy IY']),
    );
    expect(dict).not.toContain('red ');
    expect(() => buildDictionary(cmudict, ['read', 'glasses'])).toThrow(/no pronunciation for: glasses/);
  });

  it('finds the speech, keeps a margin, and lays the same faint floor under it every time', () => {
    const pcm = new Int16Array(32000);
    for (let i = 12000; i < 20000; i++) pcm[i] = Math.round(8000 * Math.sin(i / 5));
    const speech = findSpeech(pcm);
    expect(speech?.start).toBe(12000 - 25 * 160);
    expect(speech?.end).toBe(20000 + 25 * 160);
    const a = conditionAudio(pcm, -40);
    const b = conditionAudio(pcm, -40);
    expect(a?.pcm.length).toBe(16000);
    expect(a?.pcm).toEqual(b?.pcm);
    expect(a?.snrDb).toBe(40);
    // The silence before the speech is no longer digital silence, but stays ~40 dB down.
    const lead = a?.pcm.subarray(0, 3000) ?? new Int16Array(0);
    const leadRms = Math.sqrt(lead.reduce((s, v) => s + v * v, 0) / lead.length);
    expect(leadRms).toBeGreaterThan(10);
    expect(leadRms).toBeLessThan(8000 / Math.SQRT2 / 50);
    expect(findSpeech(new Int16Array(8000))).toBeUndefined();
  });
});
