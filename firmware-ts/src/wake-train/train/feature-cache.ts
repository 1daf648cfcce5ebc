/**
 * Embeddings of every clip of a generated data set, computed once and kept in .cache.
 *
 * The cache key covers what the numbers depend on: the data index (clip files, which carry a hash of
 * their recipe, and lengths), the sha256 of the melspectrogram and embedding models, and
 * FEATURES_VERSION for this code. Two files per key: `<key>.f32` (the store's rows, float32
 * little-endian, as every board and build host is) and `<key>.json` (the clip spans), the JSON
 * written last so that its presence means the pair is whole.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { readWavAs16kMono } from '../../audio/wav.js';
import { EMBEDDING_DIM, WakeFeatures, type WakeFeatureModels } from '../../wake/features.js';
import { writeFileAtomic } from '../../util/atomic-file.js';
import type { WakeDataIndex } from '../data/dataset.js';
import { WakeTrainError } from './errors.js';
import type { FeatureWorkerData, FeatureWorkerReply } from './feature-worker.js';
import {
  buildStore,
  clipEmbeddings,
  HISTORY_ROWS,
  historyRows,
  type ClipSpan,
  type EmbeddingStore,
} from './embeddings.js';

/** Bump when the stored numbers would change for the same data and models. */
export const FEATURES_VERSION = 1;

export interface FeatureInputs {
  dataDir: string;
  index: WakeDataIndex;
  models: WakeFeatureModels;
  /** sha256 of the melspectrogram and embedding model files (from the manifest). */
  modelSha256: readonly string[];
  cacheDir: string;
  /** Clips streamed at once, each through its own WakeFeatures; default 2. */
  concurrency?: number;
  /**
   * Worker threads, each with its own sessions of the feature models (feature-worker.ts), so that
   * every core computes; without it, the clips are streamed on this thread with `models`.
   */
  workers?: { count: number; models: FeatureWorkerData };
  /** Seconds of audio done and in total. */
  onProgress?: (doneSeconds: number, totalSeconds: number) => void;
  signal?: AbortSignal;
}

export interface Features {
  store: EmbeddingStore;
  key: string;
  /** Whether they came from the cache. */
  cached: boolean;
}

interface CacheMeta {
  version: number;
  key: string;
  /** Frames per clip, in index order. */
  frames: number[];
  rows: number;
}

export function featureCacheKey(index: WakeDataIndex, modelSha256: readonly string[]): string {
  return createHash('sha256')
    .update(JSON.stringify({ FEATURES_VERSION, modelSha256, index }))
    .digest('hex')
    .slice(0, 24);
}

export async function loadOrComputeFeatures(inputs: FeatureInputs): Promise<Features> {
  const key = featureCacheKey(inputs.index, inputs.modelSha256);
  const cached = await readCache(inputs.cacheDir, key, inputs.index.clips.length);
  if (cached !== undefined) return { store: cached, key, cached: true };
  const store = await computeFeatures(inputs);
  await writeCache(inputs.cacheDir, key, store);
  return { store, key, cached: false };
}

async function computeFeatures(inputs: FeatureInputs): Promise<EmbeddingStore> {
  const script = workerScript();
  if (script !== undefined && inputs.workers !== undefined && inputs.workers.count > 0) {
    const history = new WakeFeatures(inputs.models);
    await history.warmUp();
    return buildStore(historyRows(history), await computeInWorkers(inputs, inputs.workers, script));
  }
  const { index, dataDir, signal } = inputs;
  const workers = Math.max(1, inputs.concurrency ?? 2);
  const streams: WakeFeatures[] = [];
  for (let i = 0; i < workers; i++) {
    const f = new WakeFeatures(inputs.models);
    await f.warmUp();
    streams.push(f);
  }
  const history = historyRows(streams[0] as WakeFeatures);
  const perClip: Float32Array[] = new Array<Float32Array>(index.clips.length);
  const totalSeconds = index.clips.reduce((s, c) => s + c.seconds, 0);
  let doneSeconds = 0;
  let next = 0;
  // Each stream takes the next clip. The streams share the sessions, and onnxruntime-node runs one
  // session's calls one after the other: a second stream only overlaps this thread's WAV reading and
  // copying with inference (about 10 % faster here). Using both cores would take worker threads,
  // each with its own sessions.
  await Promise.all(
    streams.map(async (features) => {
      for (;;) {
        const i = next++;
        const clip = index.clips[i];
        if (clip === undefined) return;
        signal?.throwIfAborted();
        const audio = await readWavAs16kMono(join(dataDir, clip.file));
        perClip[i] = await clipEmbeddings(features, audio.pcm, signal);
        doneSeconds += clip.seconds;
        inputs.onProgress?.(doneSeconds, totalSeconds);
      }
    }),
  );
  return buildStore(history, perClip);
}

/**
 * A worker on feature-worker's compiled .js beside this file. From source (tsx, vitest) there is
 * none: tsx's loader does not reach worker threads there, so the clips are streamed on this thread.
 */
function workerScript(): URL | undefined {
  return import.meta.url.endsWith('.ts') ? undefined : new URL('./feature-worker.js', import.meta.url);
}

/** Every clip's embeddings, computed by `spec.count` worker threads, each kept one clip busy. */
async function computeInWorkers(
  inputs: FeatureInputs,
  spec: { count: number; models: FeatureWorkerData },
  script: URL,
): Promise<Float32Array[]> {
  const { index, dataDir, signal } = inputs;
  const perClip: Float32Array[] = new Array<Float32Array>(index.clips.length);
  const totalSeconds = index.clips.reduce((s, c) => s + c.seconds, 0);
  let doneSeconds = 0;
  let next = 0;
  const workers = Array.from(
    { length: Math.min(spec.count, index.clips.length) },
    () => new Worker(script, { workerData: spec.models }),
  );
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const onAbort = (): void => {
              reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
            };
            signal?.addEventListener('abort', onAbort, { once: true });
            const finish = (err?: Error): void => {
              signal?.removeEventListener('abort', onAbort);
              if (err === undefined) resolve();
              else reject(err);
            };
            const sendNext = (): void => {
              const i = next++;
              const clip = index.clips[i];
              if (clip === undefined) {
                finish();
                return;
              }
              worker.postMessage({ clip: i, file: join(dataDir, clip.file) });
            };
            worker.on('message', (m: FeatureWorkerReply) => {
              if ('ready' in m) {
                sendNext();
              } else if ('error' in m) {
                const file = index.clips[m.clip]?.file ?? 'the feature models';
                finish(new WakeTrainError('E_WAKE_TRAIN', `wake features of ${file}: ${m.error}`));
              } else {
                perClip[m.clip] = m.embeddings;
                doneSeconds += index.clips[m.clip]?.seconds ?? 0;
                inputs.onProgress?.(doneSeconds, totalSeconds);
                sendNext();
              }
            });
            worker.on('error', (err) => {
              finish(err);
            });
            worker.on('exit', (code) => {
              if (code !== 0) finish(new Error(`wake feature worker exited with code ${code}`));
            });
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return perClip;
}

function cacheFiles(cacheDir: string, key: string): { data: string; meta: string } {
  return { data: join(cacheDir, `${key}.f32`), meta: join(cacheDir, `${key}.json`) };
}

async function readCache(
  cacheDir: string,
  key: string,
  clipCount: number,
): Promise<EmbeddingStore | undefined> {
  const files = cacheFiles(cacheDir, key);
  let meta: CacheMeta;
  let bytes: Buffer;
  try {
    meta = JSON.parse(await fs.readFile(files.meta, 'utf8')) as CacheMeta;
    bytes = await fs.readFile(files.data);
  } catch {
    return undefined;
  }
  // Anything that does not add up is recomputed rather than trusted.
  if (
    meta.version !== FEATURES_VERSION ||
    meta.key !== key ||
    !Array.isArray(meta.frames) ||
    meta.frames.length !== clipCount ||
    bytes.length !== meta.rows * EMBEDDING_DIM * 4
  ) {
    return undefined;
  }
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const clips: ClipSpan[] = [];
  let row = 0;
  for (const frames of meta.frames) {
    clips.push({ row, frames });
    row += HISTORY_ROWS + frames;
  }
  if (row !== meta.rows) return undefined;
  return { data, clips };
}

async function writeCache(cacheDir: string, key: string, store: EmbeddingStore): Promise<void> {
  await fs.mkdir(cacheDir, { recursive: true });
  const files = cacheFiles(cacheDir, key);
  await writeFileAtomic(
    files.data,
    Buffer.from(store.data.buffer, store.data.byteOffset, store.data.byteLength),
  );
  const meta: CacheMeta = {
    version: FEATURES_VERSION,
    key,
    frames: store.clips.map((c) => c.frames),
    rows: store.data.length / EMBEDDING_DIM,
  };
  await writeFileAtomic(files.meta, JSON.stringify(meta));
}
