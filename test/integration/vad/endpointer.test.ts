/**
 * The endpointer on the real Silero VAD (onnxruntime over models/, loaded as main.ts does), on
 * commands spoken by espeak-ng, and behind the real wake engine on the wake fixtures.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitChunks } from '../../../firmware-ts/src/audio/chunk.js';
import { readWavAs16kMono } from '../../../firmware-ts/src/audio/wav.js';
import { loadConfig } from '../../../firmware-ts/src/config.js';
import { createOnnxLoader } from '../../../firmware-ts/src/inference/onnx.js';
import type { InferenceModel } from '../../../firmware-ts/src/inference/model.js';
import type { WakeEngine } from '../../../firmware-ts/src/main.js';
import { findModel, loadManifest } from '../../../firmware-ts/src/models/manifest.js';
import { fromRoot } from '../../../firmware-ts/src/paths.js';
import {
  Endpointer,
  UTTERANCE_TAIL_MS,
  type EndpointerOptions,
  type EndpointEvent,
} from '../../../firmware-ts/src/vad/endpointer.js';
import { SileroVad } from '../../../firmware-ts/src/vad/silero.js';
import { realEngine } from '../../helpers/engine.js';
import { PRETRAINED_PHRASES, WAKE_FIXTURES, wavsIn } from '../../helpers/fixtures.js';

type Utterance = Extract<EndpointEvent, { type: 'utterance' }>;

const PRE_ROLL_MS = 300;
/** How far the VAD's speech edges (speech-start, utterance end less its tail) may lie from the energy edges. */
const TOLERANCE_MS = 150;
/** Energy edges: the first and last 10 ms frame within 40 dB of the loudest (keeps the weak "s" of "set"). */
const FRAME_MS = 10;
const ENERGY_FLOOR_DB = -40;

const COMMANDS = ['turn on the lights', 'set a timer for five minutes', 'stop'];

let vadModel: InferenceModel;
let dir: string;
const clips = new Map<string, Int16Array>();

beforeAll(async () => {
  const modelsDir = fromRoot(loadConfig({ env: {} }).models.dir);
  const manifest = await loadManifest(modelsDir);
  vadModel = await createOnnxLoader({ modelsDir })(findModel(manifest, 'silero_vad', 'vad'));
  dir = mkdtempSync(join(tmpdir(), 'endpointer-'));
  for (const [i, text] of COMMANDS.entries()) {
    const raw = join(dir, `${i}.raw.wav`);
    const wav = join(dir, `${i}.wav`);
    execFileSync('espeak-ng', ['-v', 'en-us', '-w', raw, text]);
    execFileSync('sox', ['-D', raw, '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', wav]);
    clips.set(text, (await readWavAs16kMono(wav)).pcm);
  }
});

afterAll(async () => {
  await vadModel.release();
  rmSync(dir, { recursive: true, force: true });
});

function endpointer(opts: Partial<Omit<EndpointerOptions, 'vad'>> = {}): Endpointer {
  return new Endpointer({
    vad: new SileroVad(vadModel),
    speechThreshold: 0.5,
    preRollMs: PRE_ROLL_MS,
    shortSilenceMs: 350,
    longSilenceMs: 900,
    maxUtteranceMs: 8000,
    ...opts,
  });
}

/** `beforeMs` of silence, the clip, `afterMs` of silence. */
function padded(clip: Int16Array, beforeMs: number, afterMs: number): Int16Array {
  const pcm = new Int16Array(clip.length + (beforeMs + afterMs) * 16);
  pcm.set(clip, beforeMs * 16);
  return pcm;
}

function energyEdges(pcm: Int16Array): { onMs: number; offMs: number } {
  const frame = FRAME_MS * 16;
  const db: number[] = [];
  for (let i = 0; i + frame <= pcm.length; i += frame) {
    let sum = 0;
    for (let j = i; j < i + frame; j++) sum += (pcm[j]! / 32768) ** 2;
    db.push(10 * Math.log10(sum / frame + 1e-12));
  }
  const floor = Math.max(...db) + ENERGY_FLOOR_DB;
  const on = db.findIndex((d) => d > floor);
  const off = db.findLastIndex((d) => d > floor);
  return { onMs: on * FRAME_MS, offMs: (off + 1) * FRAME_MS };
}

async function run(ep: Endpointer, pcm: Int16Array, chunkSamples = 1280): Promise<EndpointEvent[]> {
  const out: EndpointEvent[] = [];
  for (const c of splitChunks(pcm, chunkSamples)) out.push(...(await ep.push(c)));
  return out;
}

function digested(events: EndpointEvent[]): unknown[] {
  return events.map((e) =>
    e.type === 'utterance'
      ? {
          ...e,
          pcm: createHash('sha256')
            .update(new Uint8Array(e.pcm.buffer, e.pcm.byteOffset, e.pcm.byteLength))
            .digest('hex'),
        }
      : e,
  );
}

describe('endpointer on the real Silero VAD', () => {
  it.each(COMMANDS)('"%s" after 1 s of silence: one utterance bracketing the speech', async (text) => {
    const pcm = padded(clips.get(text)!, 1000, 2000);
    const { onMs, offMs } = energyEdges(pcm);
    const ep = endpointer();
    ep.begin(0);
    const events = await run(ep, pcm);
    expect(events.map((e) => e.type)).toEqual(['speech-start', 'utterance']);
    const [start, u] = events as [Extract<EndpointEvent, { type: 'speech-start' }>, Utterance];
    expect(Math.abs(start.atMs - onMs)).toBeLessThanOrEqual(TOLERANCE_MS);
    expect(u.reason).toBe('long-silence');
    expect(u.startMs).toBe(start.atMs - PRE_ROLL_MS);
    expect(u.startMs).toBeLessThanOrEqual(onMs);
    expect(u.endMs).toBeGreaterThanOrEqual(offMs);
    expect(Math.abs(u.endMs - UTTERANCE_TAIL_MS - offMs)).toBeLessThanOrEqual(TOLERANCE_MS);
    expect(u.pcm).toEqual(pcm.slice(u.startMs * 16, u.endMs * 16));
  });

  it.each(COMMANDS)(
    '"%s": ends on the short silence when complete, on the long one when not',
    async (text) => {
      const pcm = padded(clips.get(text)!, 1000, 2000);
      const plain = endpointer();
      plain.begin(0);
      const [, expected] = await run(plain, pcm);
      for (const complete of [true, false]) {
        const asked: Int16Array[] = [];
        const ep = endpointer({
          isComplete: (audio) => {
            asked.push(audio);
            return Promise.resolve(complete);
          },
        });
        ep.begin(0);
        const [, u] = await run(ep, pcm);
        expect(u).toEqual({ ...expected, reason: complete ? 'short-silence' : 'long-silence' });
        // Asked once, about the audio the utterance ends up with.
        expect(asked).toEqual([(u as Utterance).pcm]);
      }
    },
  );

  it('gives the same events whatever the chunk size', async () => {
    const pcm = padded(clips.get('set a timer for five minutes')!, 1000, 2000);
    const results: unknown[][] = [];
    for (const chunk of [1024, 1280, 2560, 777]) {
      const ep = endpointer({ isComplete: (audio) => Promise.resolve(audio.length > 16_000) });
      ep.begin(0);
      results.push(digested(await run(ep, pcm, chunk)));
    }
    expect(results[0]).toHaveLength(2);
    for (const r of results) expect(r).toEqual(results[0]);
  });
});

describe('endpointer behind the real wake engine', () => {
  let engine: WakeEngine;

  beforeAll(async () => {
    engine = await realEngine({ phrases: [...PRETRAINED_PHRASES] });
  });
  afterAll(async () => {
    await engine.close();
  });

  /** As the voice loop does: each chunk to the detector, begin() at a detection, then the chunk to the endpointer. */
  async function wakeThenCapture(pcm: Int16Array): Promise<{ wakeMs: number[]; events: EndpointEvent[] }> {
    engine.detector.reset();
    const ep = endpointer();
    const wakeMs: number[] = [];
    const events: EndpointEvent[] = [];
    for (const c of splitChunks(pcm, 1280)) {
      for (const d of await engine.detector.push(c)) {
        wakeMs.push(d.atMs);
        if (!ep.capturing) ep.begin(d.atMs);
      }
      events.push(...(await ep.push(c)));
    }
    return { wakeMs, events };
  }

  it('never takes the end of the wake phrase for the start of an utterance', async () => {
    let heard = 0;
    for (const phrase of PRETRAINED_PHRASES) {
      for (const file of wavsIn(join(WAKE_FIXTURES, 'pos', phrase))) {
        // The fixtures end with 1 s of silence; 1 s more lets a false start reach its long silence.
        const { wakeMs, events } = await wakeThenCapture(padded((await readWavAs16kMono(file)).pcm, 0, 1000));
        if (wakeMs.length > 0) heard++;
        expect(events, file).toEqual([]);
      }
    }
    // Every fixture the heads detect (see test/integration/wake.test.ts for the known misses).
    expect(heard).toBeGreaterThan(30);
  });

  it('catches a command run on from the wake phrase without a pause', async () => {
    const wake = (await readWavAs16kMono(join(WAKE_FIXTURES, 'pos', 'hey_jarvis', 'en-us_165_65.wav'))).pcm;
    // Drop the fixture's closing second of silence so the command follows the phrase at once.
    const spoken = wake.subarray(0, wake.length - 16_000);
    const command = clips.get('turn on the lights')!;
    const pcm = new Int16Array(spoken.length + command.length + 32_000);
    pcm.set(spoken);
    pcm.set(command, spoken.length);
    const edges = energyEdges(command);
    const onMs = spoken.length / 16 + edges.onMs;
    const offMs = spoken.length / 16 + edges.offMs;
    const { wakeMs, events } = await wakeThenCapture(pcm);
    expect(wakeMs).toHaveLength(1);
    expect(events.map((e) => e.type)).toEqual(['speech-start', 'utterance']);
    const u = events[1] as Utterance;
    // The utterance holds the whole command (and the end of the wake phrase, in its pre-roll).
    expect(u.startMs).toBeLessThanOrEqual(onMs);
    expect(u.endMs).toBeGreaterThanOrEqual(offMs);
    expect(Math.abs(u.endMs - UTTERANCE_TAIL_MS - offMs)).toBeLessThanOrEqual(TOLERANCE_MS);
  });
});
