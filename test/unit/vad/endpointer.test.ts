import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { samplesToMs } from '../../../firmware-ts/src/audio/chunk.js';
import { isGlassesError } from '../../../firmware-ts/src/errors.js';
import {
  Endpointer,
  type EndpointerOptions,
  type EndpointEvent,
} from '../../../firmware-ts/src/vad/endpointer.js';
import { SileroVad, VAD_WINDOW_SAMPLES } from '../../../firmware-ts/src/vad/silero.js';
import { FakeModel } from '../../helpers/fake-model.js';

const W = VAD_WINDOW_SAMPLES;
const WINDOW_MS = 32;
const SPEECH = 0.9;
const QUIET = 0.1;
// With the options below: a pause reaches 350 ms at 11 windows (352 ms) and 900 ms at 29 (928 ms).
const SHORT_WINDOWS = 11;
const LONG_WINDOWS = 29;
const PRE_ROLL_MS = 300;
const TAIL_MS = 100;

/** Speech probabilities, one per 512-sample window: [probability, windows] runs. */
function script(...runs: [number, number][]): number[] {
  return runs.flatMap(([p, n]) => Array<number>(n).fill(p));
}

/** A Silero VAD whose model returns `probs[i]` for its i-th window (silence after the script). */
function scriptedVad(probs: readonly number[]): { vad: SileroVad; model: FakeModel } {
  const model = new FakeModel('vad', ['input', 'sr', 'h', 'c'], ['output', 'hn', 'cn'], (call) => ({
    output: Float32Array.of(probs[call] ?? 0),
    hn: new Float32Array(128),
    cn: new Float32Array(128),
  }));
  return { vad: new SileroVad(model), model };
}

function endpointer(
  probs: readonly number[],
  opts: Partial<Omit<EndpointerOptions, 'vad'>> = {},
): { ep: Endpointer; model: FakeModel } {
  const { vad, model } = scriptedVad(probs);
  const ep = new Endpointer({
    vad,
    speechThreshold: 0.5,
    preRollMs: PRE_ROLL_MS,
    shortSilenceMs: 350,
    longSilenceMs: 900,
    maxUtteranceMs: 8000,
    ...opts,
  });
  return { ep, model };
}

/** Audio whose every sample tells where it is, so an utterance's pcm can be checked against the stream. */
function stream(windows: number): Int16Array {
  return Int16Array.from({ length: windows * W }, (_, i) => i % 32_000);
}

function at(pcm: Int16Array, fromMs: number, toMs: number): Int16Array {
  return pcm.slice(fromMs * 16, toMs * 16);
}

/** Pushes windows [fromWindow, toWindow) of `pcm` in chunks of `chunkSamples`. */
async function feed(
  ep: Endpointer,
  pcm: Int16Array,
  chunkSamples = 1280,
  fromWindow = 0,
  toWindow = pcm.length / W,
): Promise<EndpointEvent[]> {
  const out: EndpointEvent[] = [];
  for (let s = fromWindow * W; s < toWindow * W; s += chunkSamples) {
    const chunk = pcm.subarray(s, Math.min(toWindow * W, s + chunkSamples));
    out.push(...(await ep.push({ pcm: chunk, sampleRateHz: 16_000, channels: 1, tsMs: samplesToMs(s) })));
  }
  return out;
}

function utterances(events: EndpointEvent[]): Extract<EndpointEvent, { type: 'utterance' }>[] {
  return events.flatMap((e) => (e.type === 'utterance' ? [e] : []));
}

/** Events with each pcm replaced by its length and digest: long arrays compare slowly in toEqual. */
function digested(events: EndpointEvent[]): unknown[] {
  return events.map((e) => (e.type === 'utterance' ? { ...e, pcm: digest(e.pcm) } : e));
}

function digest(pcm: Int16Array): string {
  const bytes = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  return `${pcm.length}:${createHash('sha256').update(bytes).digest('hex')}`;
}

describe('Endpointer', () => {
  it('starts the utterance with the pre-roll, even from before begin(), and ends it after a long silence', async () => {
    // Speech in windows 40..59: 1280 ms to 1920 ms.
    const probs = script([QUIET, 40], [SPEECH, 20], [QUIET, 60]);
    const { ep } = endpointer(probs);
    const pcm = stream(probs.length);
    ep.begin(1000);
    const events = await feed(ep, pcm);
    expect(events).toEqual([
      { type: 'speech-start', atMs: 1280 },
      {
        type: 'utterance',
        pcm: at(pcm, 1280 - PRE_ROLL_MS, 1920 + TAIL_MS),
        startMs: 1280 - PRE_ROLL_MS,
        endMs: 1920 + TAIL_MS,
        reason: 'long-silence',
      },
    ]);
    expect(ep.capturing).toBe(false);
  });

  it('emits the utterance from the push holding the window where the silence reached longSilenceMs', async () => {
    const probs = script([QUIET, 40], [SPEECH, 20], [QUIET, 60]);
    const { ep } = endpointer(probs);
    const pcm = stream(probs.length);
    ep.begin(0);
    expect(await feed(ep, pcm, W, 0, 60 + LONG_WINDOWS - 1)).toHaveLength(1);
    expect(utterances(await feed(ep, pcm, W, 60 + LONG_WINDOWS - 1, 60 + LONG_WINDOWS))).toHaveLength(1);
  });

  it('ends on the short silence when isComplete says the command is complete', async () => {
    const probs = script([QUIET, 40], [SPEECH, 20], [QUIET, 60]);
    const asked: Int16Array[] = [];
    const { ep } = endpointer(probs, {
      isComplete: (pcm) => {
        asked.push(pcm);
        return Promise.resolve(true);
      },
    });
    const pcm = stream(probs.length);
    ep.begin(0);
    const events = await feed(ep, pcm, W, 0, 60 + SHORT_WINDOWS + 1);
    const [u] = utterances(events);
    expect(u).toEqual({
      type: 'utterance',
      pcm: at(pcm, 980, 2020),
      startMs: 980,
      endMs: 2020,
      reason: 'short-silence',
    });
    expect(asked).toEqual([u!.pcm]);
  });

  it('asks isComplete once per pause and waits for the long silence when the answer is no', async () => {
    const probs = script([QUIET, 40], [SPEECH, 20], [QUIET, 60]);
    let calls = 0;
    const { ep } = endpointer(probs, {
      isComplete: () => {
        calls++;
        return Promise.resolve(false);
      },
    });
    ep.begin(0);
    const [u] = utterances(await feed(ep, stream(probs.length)));
    expect(u).toMatchObject({ startMs: 980, endMs: 2020, reason: 'long-silence' });
    expect(calls).toBe(1);
  });

  it('counts a rejected isComplete as no', async () => {
    const probs = script([QUIET, 40], [SPEECH, 20], [QUIET, 60]);
    const { ep } = endpointer(probs, { isComplete: () => Promise.reject(new Error('recogniser down')) });
    ep.begin(0);
    expect(utterances(await feed(ep, stream(probs.length)))).toMatchObject([{ reason: 'long-silence' }]);
  });

  it('starts the pause over when speech resumes, and asks again in the next pause', async () => {
    // Speech 1280-1920 ms, a 480 ms pause (past the short silence), speech 2400-2720 ms.
    const probs = script([QUIET, 40], [SPEECH, 20], [QUIET, 15], [SPEECH, 10], [QUIET, 60]);
    const asked: number[] = [];
    const { ep } = endpointer(probs, {
      isComplete: (pcm) => {
        asked.push(pcm.length / 16);
        return Promise.resolve(false);
      },
    });
    ep.begin(0);
    const events = await feed(ep, stream(probs.length));
    expect(events.map((e) => e.type)).toEqual(['speech-start', 'utterance']);
    expect(utterances(events)[0]).toMatchObject({ startMs: 980, endMs: 2820, reason: 'long-silence' });
    expect(asked).toEqual([2020 - 980, 2820 - 980]);
  });

  it('keeps going through a dip shorter than the short silence without asking', async () => {
    const probs = script([QUIET, 40], [SPEECH, 20], [QUIET, 2], [SPEECH, 10], [QUIET, 60]);
    let calls = 0;
    const { ep } = endpointer(probs, {
      isComplete: () => {
        calls++;
        return Promise.resolve(true);
      },
    });
    ep.begin(0);
    const [u] = utterances(await feed(ep, stream(probs.length)));
    expect(u).toMatchObject({ startMs: 980, endMs: 32 * 72 + TAIL_MS, reason: 'short-silence' });
    expect(calls).toBe(1);
  });

  it('applies a slow yes where it was asked, though speech resumed before it came', async () => {
    const probs = script([QUIET, 40], [SPEECH, 20], [QUIET, 15], [SPEECH, 10], [QUIET, 60]);
    const { ep } = endpointer(probs, {
      isComplete: () =>
        new Promise((resolve) =>
          setTimeout(() => {
            resolve(true);
          }, 20),
        ),
    });
    ep.begin(0);
    const events = await feed(ep, stream(probs.length), 2560);
    expect(utterances(events)).toMatchObject([{ startMs: 980, endMs: 2020, reason: 'short-silence' }]);
    expect(ep.capturing).toBe(false);
  });

  it('caps the utterance at maxUtteranceMs', async () => {
    const probs = script([QUIET, 10], [SPEECH, 400]);
    const { ep } = endpointer(probs, { maxUtteranceMs: 8000 });
    const pcm = stream(probs.length);
    ep.begin(0);
    const events = await feed(ep, pcm);
    expect(events[0]).toEqual({ type: 'speech-start', atMs: 320 });
    expect(digested(utterances(events))).toEqual([
      { type: 'utterance', pcm: digest(at(pcm, 20, 8020)), startMs: 20, endMs: 8020, reason: 'max-length' },
    ]);
  });

  it('ignores a blip shorter than the minimum speech run', async () => {
    const probs = script([QUIET, 20], [SPEECH, 2], [QUIET, 40], [SPEECH, 3], [QUIET, 40]);
    const { ep } = endpointer(probs);
    ep.begin(0);
    const events = await feed(ep, stream(probs.length));
    expect(events[0]).toEqual({ type: 'speech-start', atMs: 62 * WINDOW_MS });
    expect(utterances(events)).toMatchObject([
      { startMs: 62 * WINDOW_MS - PRE_ROLL_MS, endMs: 65 * 32 + 100 },
    ]);
  });

  it('does not start on the end of the wake phrase: speech going on at begin() must last 384 ms more', async () => {
    // The wake phrase is speech up to 480 ms; capture begins at 320 ms: 5 speech windows follow.
    const probs = script([SPEECH, 15], [QUIET, 60]);
    const { ep } = endpointer(probs);
    ep.begin(320);
    expect(await feed(ep, stream(probs.length))).toEqual([]);
    expect(ep.capturing).toBe(true);
  });

  it('catches a command run on from the wake phrase, with its pre-roll', async () => {
    // Speech from 0 to 1600 ms without a pause; capture begins at 960 ms.
    const probs = script([SPEECH, 50], [QUIET, 60]);
    const { ep } = endpointer(probs);
    const pcm = stream(probs.length);
    ep.begin(960);
    expect(await feed(ep, pcm)).toEqual([
      { type: 'speech-start', atMs: 960 },
      { type: 'utterance', pcm: at(pcm, 660, 1700), startMs: 660, endMs: 1700, reason: 'long-silence' },
    ]);
  });

  it('needs only the minimum run once the speech going on at begin() has stopped', async () => {
    const probs = script([SPEECH, 15], [QUIET, 1], [SPEECH, 3], [QUIET, 60]);
    const { ep } = endpointer(probs);
    ep.begin(320);
    expect((await feed(ep, stream(probs.length)))[0]).toEqual({ type: 'speech-start', atMs: 16 * WINDOW_MS });
  });

  it('only keeps pre-roll and runs the VAD before begin() and after an utterance', async () => {
    const probs = script([SPEECH, 30], [QUIET, 40], [SPEECH, 20], [QUIET, 60], [SPEECH, 20], [QUIET, 40]);
    const { ep, model } = endpointer(probs);
    const pcm = stream(probs.length);
    expect(await feed(ep, pcm, 1280, 0, 60)).toEqual([]);
    ep.begin(samplesToMs(60 * W));
    const events = await feed(ep, pcm, 1280, 60);
    expect(events.map((e) => e.type)).toEqual(['speech-start', 'utterance']);
    expect(model.calls).toBe(probs.length);
    expect(ep.capturing).toBe(false);
  });

  it('gives the same events whatever the chunk size', async () => {
    const probs = script(
      [QUIET, 20],
      [SPEECH, 2],
      [QUIET, 10],
      [SPEECH, 25],
      [QUIET, 4],
      [SPEECH, 8],
      [QUIET, 14],
      [SPEECH, 30],
      [QUIET, 40],
    );
    const results: unknown[][] = [];
    for (const chunk of [1024, 1280, 2560, 777]) {
      // Complete once the utterance holds more than 2 s of audio: no at the first pause (1.6 s), yes at the second.
      const { ep } = endpointer(probs, { isComplete: (pcm) => Promise.resolve(pcm.length > 32_000) });
      ep.begin(100);
      results.push(digested(await feed(ep, stream(probs.length), chunk)));
    }
    expect(results[0]).toMatchObject([
      { type: 'speech-start' },
      { type: 'utterance', reason: 'short-silence' },
    ]);
    for (const r of results) expect(r).toEqual(results[0]);
  });

  it('stops on cancel(), aborting a pending completeness check', async () => {
    const probs = script([QUIET, 40], [SPEECH, 20], [QUIET, 60]);
    let signal: AbortSignal | undefined;
    const { ep } = endpointer(probs, {
      isComplete: (_pcm, s) => {
        signal = s;
        return new Promise<boolean>(() => undefined);
      },
    });
    const pcm = stream(probs.length);
    ep.begin(0);
    expect((await feed(ep, pcm, W, 0, 60 + SHORT_WINDOWS + 2)).map((e) => e.type)).toEqual(['speech-start']);
    expect(signal?.aborted).toBe(false);
    ep.cancel();
    expect(signal?.aborted).toBe(true);
    expect(ep.capturing).toBe(false);
    expect(await feed(ep, pcm, W, 60 + SHORT_WINDOWS + 2)).toEqual([]);
  });

  it('starts over on a second begin()', async () => {
    const probs = script([QUIET, 40], [SPEECH, 20], [QUIET, 10], [SPEECH, 10], [QUIET, 40]);
    const { ep } = endpointer(probs);
    const pcm = stream(probs.length);
    ep.begin(0);
    await feed(ep, pcm, 1024, 0, 64);
    ep.begin(samplesToMs(70 * W));
    const events = await feed(ep, pcm, 1024, 64);
    expect(events[0]).toEqual({ type: 'speech-start', atMs: 70 * WINDOW_MS });
    expect(utterances(events)).toMatchObject([
      { startMs: 70 * WINDOW_MS - PRE_ROLL_MS, reason: 'long-silence' },
    ]);
  });

  it('refuses audio that is not 16 kHz mono', async () => {
    const { ep } = endpointer([]);
    await expect(
      ep.push({ pcm: new Int16Array(100), sampleRateHz: 48_000, channels: 1, tsMs: 0 }),
    ).rejects.toSatisfy((e) => isGlassesError(e, 'E_AUDIO_FORMAT'));
  });

  it('refuses options that cannot work', () => {
    expect(() => endpointer([], { shortSilenceMs: 1000, longSilenceMs: 500 })).toThrow(/shortSilenceMs/);
    expect(() => endpointer([], { speechThreshold: 0 })).toThrow(/speechThreshold/);
    expect(() => endpointer([], { maxUtteranceMs: 200 })).toThrow(/maxUtteranceMs/);
  });
});
