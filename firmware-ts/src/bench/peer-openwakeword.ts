/**
 * Runs the peer library openwakeword-js (npm) in Node on a PCM buffer, for a side-by-side
 * benchmark against our own wake engine.
 *
 * openwakeword-js targets browsers: its dist/index.js bundles its own private copy of
 * onnxruntime-web (1.24.1, the WebGPU/"jsep" wasm flavour) and exports only `Model`, so the
 * runtime's `env` (threads, wasm paths, log level) is out of reach. Three things break in Node and
 * are worked around here at runtime, only for the duration of `Model.init()`, without touching
 * node_modules:
 *
 * 1. The bundle calls `require('node:os')` (to pick a thread count) through an esbuild shim that
 *    only works if a global `require` exists, which ESM does not have. We lend it one, whose
 *    `os.cpus()` reports one core: the bundle then chooses `numThreads = 1`, the same single thread
 *    our engine gives each onnxruntime-node session, so the timing compares like with like.
 * 2. The bundle looks for its wasm glue next to itself (openwakeword-js/dist/), where npm does not
 *    put it. The peer's `wasmPaths` option points the runtime at onnxruntime-web/dist/ resolved from
 *    openwakeword-js's own folder, so glue and bundle are the same pinned release. A plain
 *    directory path, not a file:// URL: the glue reads the .wasm with fs in Node, while a file://
 *    URL sends the threaded loader to fetch(), which Node cannot do for files.
 * 3. The runtime loads every model path with fetch(), which in Node takes neither plain paths nor
 *    file:// URLs. Passing bytes instead is not possible because the peer derives each head's name
 *    from its path. So fetch is wrapped to answer exactly our model paths from bytes read here, and
 *    defer everything else to the real fetch.
 *
 * Loading the glue also sets `global.Worker` (emscripten's Node pthread support); with one thread
 * no worker is ever started. The peer logs with console.log during init; that is silenced so a
 * CLI's stdout stays clean JSON.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Model } from 'openwakeword-js';
import { messageOf } from '../errors.js';

export interface PeerRunResult {
  /** ms of wall time per 80 ms frame (1280 samples), predict() only, after warm-up */
  msPerFrame: number;
  frames: number;
  /** max score per wake head over the whole audio */
  maxScores: Record<string, number>;
  /** per-frame scores for head `hey_jarvis_v0.1` (or the first head), for checking the peer works */
  scores: number[];
}

/** The peer's chunk: 80 ms at 16 kHz. */
const FRAME_SAMPLES = 1280;
/**
 * Warm-up is read in blocks of this many frames (2 s of audio); a block's median predict time is
 * one reading of the peer's speed, robust to the odd slow frame.
 */
const WARMUP_BLOCK_FRAMES = 25;
/**
 * V8 first runs the peer's ~20 MB wasm with its baseline compiler and swaps in optimized code from
 * background threads as functions get hot. Measured on the 2-core dev box, predict() went from
 * ~50-100 ms to a steady ~8 ms only after 1-10 s of wall time, sometimes through an intermediate
 * ~20 ms plateau lasting ~5 s. So warm-up runs until the peer has not become >10% faster for this
 * long, which outlasts the plateaus seen; a fixed frame count either stopped on a plateau or
 * wasted time on a fast box.
 */
const WARMUP_SETTLE_MS = 8000;
/** Bounds warm-up on a machine that never settles; the result is then merely pessimistic. */
const WARMUP_MAX_MS = 60_000;
const PREFERRED_HEAD = 'hey_jarvis_v0.1';
/** The wasm glue the bundled runtime imports; its absence means the versions drifted apart. */
const GLUE_FILE = 'ort-wasm-simd-threaded.jsep.mjs';

/** Runs serialize: init patches process globals, and two runs at once would skew each other's timing. */
let queue: Promise<unknown> = Promise.resolve();
/**
 * The wasm instance (and so its optimized code) is shared by every Model in the process; after one
 * settled warm-up, a new Model needs only one block for its own first-run allocations.
 */
let peerRuntimeSettled = false;

/** How long warm-up waits for the peer to stop getting faster, and its bound. */
export interface PeerWarmUp {
  settleMs: number;
  maxMs: number;
}

const WARMUP: PeerWarmUp = { settleMs: WARMUP_SETTLE_MS, maxMs: WARMUP_MAX_MS };

export async function runPeerOpenWakeWord(opts: {
  pcm: Int16Array; // 16 kHz mono
  modelsDir: string; // folder holding melspectrogram.onnx, embedding_model.onnx, <head>.onnx
  heads: string[]; // file names e.g. ['hey_jarvis_v0.1.onnx']
  /** The settled warm-up by default; `bench wake --quick` bounds it to seconds. */
  warmUp?: PeerWarmUp;
}): Promise<PeerRunResult> {
  const run = queue.then(() => runExclusive(opts));
  queue = run.catch(() => undefined);
  return run;
}

async function runExclusive(opts: {
  pcm: Int16Array;
  modelsDir: string;
  heads: string[];
  warmUp?: PeerWarmUp;
}): Promise<PeerRunResult> {
  const frames = Math.floor(opts.pcm.length / FRAME_SAMPLES);
  if (frames === 0) {
    throw new RangeError(
      `peer openwakeword: audio has ${opts.pcm.length} samples, less than one ${FRAME_SAMPLES}-sample frame`,
    );
  }
  if (opts.heads.length === 0) throw new RangeError('peer openwakeword: no wake heads given');
  // The peer keys scores by file name without ".onnx"; two heads of the same name would overwrite each other.
  const names = opts.heads.map((h) => path.basename(h).replace('.onnx', ''));
  if (new Set(names).size !== names.length) {
    throw new RangeError(`peer openwakeword: duplicate head names in [${opts.heads.join(', ')}]`);
  }

  const modelsDir = path.resolve(opts.modelsDir);
  const melPath = path.join(modelsDir, 'melspectrogram.onnx');
  const embeddingPath = path.join(modelsDir, 'embedding_model.onnx');
  const headPaths = opts.heads.map((h) => path.join(modelsDir, h));
  const files = new Map<string, Uint8Array>();
  for (const file of [melPath, embeddingPath, ...headPaths]) {
    try {
      files.set(file, new Uint8Array(await readFile(file)));
    } catch (err) {
      throw new Error(`peer openwakeword: cannot read model ${file} (${messageOf(err)})`, { cause: err });
    }
  }

  // Imported lazily: openwakeword-js is a devDependency, and this module must stay loadable without it.
  const { Model: PeerModel } = await import('openwakeword-js');
  const model = new PeerModel({
    wakewordModels: headPaths,
    melspectrogramModelPath: melPath,
    embeddingModelPath: embeddingPath,
    inferenceFramework: 'onnx',
    wasmPaths: peerWasmDir(),
  });
  await initQuietly(model, files);

  // reset() is the peer's "new stream" call, so the scores below do not depend on the warm-up audio.
  await warmUp(model, opts.pcm, frames, opts.warmUp ?? WARMUP);
  model.reset();

  const maxScores: Record<string, number> = {};
  const scores: number[] = [];
  let scoredHead: string | undefined;
  let predictMs = 0;
  for (let f = 0; f < frames; f++) {
    const at = f * FRAME_SAMPLES;
    const chunk = opts.pcm.subarray(at, at + FRAME_SAMPLES);
    const t0 = performance.now();
    const result: unknown = await model.predict(chunk);
    predictMs += performance.now() - t0;

    const frameScores = toScores(result);
    scoredHead ??= PREFERRED_HEAD in frameScores ? PREFERRED_HEAD : Object.keys(frameScores)[0];
    for (const [head, score] of Object.entries(frameScores)) {
      maxScores[head] = Math.max(maxScores[head] ?? 0, score);
    }
    scores.push(scoredHead === undefined ? 0 : (frameScores[scoredHead] ?? 0));
  }

  return { msPerFrame: predictMs / frames, frames, maxScores, scores };
}

/** Runs the audio's own frames (cycled) so the timed pass runs code V8 has already optimized. */
async function warmUp(model: Model, pcm: Int16Array, frames: number, bounds: PeerWarmUp): Promise<void> {
  let next = 0;
  const blockMedianMs = async (): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < WARMUP_BLOCK_FRAMES; i++) {
      const at = (next++ % frames) * FRAME_SAMPLES;
      const t0 = performance.now();
      await model.predict(pcm.subarray(at, at + FRAME_SAMPLES));
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[times.length >> 1] ?? 0;
  };

  if (peerRuntimeSettled) {
    await blockMedianMs();
    return;
  }
  const start = performance.now();
  // Gains are measured against the speed at the last real gain, so a slow creep still counts.
  let reference = await blockMedianMs();
  let lastGainAt = performance.now();
  while (performance.now() - lastGainAt < bounds.settleMs && performance.now() - start < bounds.maxMs) {
    const median = await blockMedianMs();
    if (median < reference * 0.9) {
      reference = median;
      lastGainAt = performance.now();
    }
  }
  peerRuntimeSettled = true;
}

/** onnxruntime-web's dist/, resolved from openwakeword-js's folder so it is the release the peer pins. */
function peerWasmDir(): string {
  const peerEntry = fileURLToPath(import.meta.resolve('openwakeword-js'));
  const ortEntry = createRequire(peerEntry).resolve('onnxruntime-web');
  const dir = path.dirname(ortEntry);
  if (!existsSync(path.join(dir, GLUE_FILE))) {
    throw new Error(
      `peer openwakeword: ${GLUE_FILE} not found in ${dir}; onnxruntime-web does not match the peer's bundle`,
    );
  }
  // The runtime concatenates file names onto this, so it needs the trailing separator.
  return dir + path.sep;
}

/** Model.init() with the Node workarounds described at the top of this file, all undone afterwards. */
async function initQuietly(model: Model, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  const g = globalThis as unknown as Record<string, unknown>;
  const savedRequire = Object.getOwnPropertyDescriptor(g, 'require');
  const realRequire: (id: string) => unknown = createRequire(import.meta.url);
  const oneCoreOs = { ...os, cpus: () => os.cpus().slice(0, 1) };
  g.require = (id: string): unknown => (id === 'node:os' || id === 'os' ? oneCoreOs : realRequire(id));

  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const bytes = typeof input === 'string' ? files.get(input) : undefined;
    return bytes ? Promise.resolve(new Response(bytes)) : realFetch(input, init);
  };

  const realLog = console.log;
  const peerLines: string[] = [];
  console.log = (...args: unknown[]) => {
    peerLines.push(args.map(String).join(' '));
  };

  try {
    await model.init();
  } catch (err) {
    const said = peerLines.length > 0 ? `; it logged: ${peerLines.join(' | ')}` : '';
    throw new Error(`peer openwakeword: init failed (${messageOf(err)})${said}`, { cause: err });
  } finally {
    console.log = realLog;
    globalThis.fetch = realFetch;
    if (savedRequire) Object.defineProperty(g, 'require', savedRequire);
    else delete g.require;
  }
}

/** The peer types predict() loosely; keep only finite numeric scores. */
function toScores(result: unknown): Record<string, number> {
  if (typeof result !== 'object' || result === null) {
    throw new TypeError('peer openwakeword: predict() did not return an object');
  }
  const out: Record<string, number> = {};
  for (const [head, score] of Object.entries(result)) {
    if (typeof score === 'number' && Number.isFinite(score)) out[head] = score;
  }
  return out;
}
