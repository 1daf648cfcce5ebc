/**
 * Clip embeddings computed with the runtime's own WakeFeatures, and the head windows over them.
 *
 * A clip is streamed exactly as the detector streams audio: WakeFeatures.reset() (the seeded,
 * warmed-up history), then every whole 1280-sample frame through pushFrame (a partial last frame is
 * never processed, as the detector's Framer keeps it waiting). After frame f the detector reads
 * window(16): the last 16 embeddings, which are the 15 newest history embeddings followed by the
 * clip's own, for f < 16. So each clip is stored as [15 history rows, one row per frame], and the
 * window the detector scores after frame f (1-based) is rows f-1 .. f+14 of it: one contiguous
 * subarray, with no copy of the 16 x 96 values per frame.
 */
import { EMBEDDING_DIM, FRAME_MS, FRAME_SAMPLES, type WakeFeatures } from '../../wake/features.js';
import { HEAD_WINDOW_EMBEDDINGS, WARMUP_FRAMES } from '../../wake/detector.js';

/** Rows of history in front of each clip's own embeddings. */
export const HISTORY_ROWS = HEAD_WINDOW_EMBEDDINGS - 1;
/**
 * The first frame (1-based) of a clip the detector scores: it scores 0 for the WARMUP_FRAMES before
 * it, as openWakeWord does, so those windows are neither trained on nor counted.
 */
export const FIRST_SCORED_FRAME = WARMUP_FRAMES + 1;

/** How many frames of a clip of `frames` whole frames the detector scores. */
export function scoredFrameCount(frames: number): number {
  return Math.max(0, frames - WARMUP_FRAMES);
}
export const WINDOW_VALUES = HEAD_WINDOW_EMBEDDINGS * EMBEDDING_DIM;

/** Where one clip's rows are in the store. */
export interface ClipSpan {
  /** First row (the oldest history row). */
  row: number;
  /** Whole frames in the clip, i.e. embeddings after the history. */
  frames: number;
}

/** Every clip's rows, one after the other, each row EMBEDDING_DIM floats. */
export interface EmbeddingStore {
  data: Float32Array;
  clips: ClipSpan[];
}

/** The history rows: the last 15 embeddings of the warmed-up state, after reset(). */
export function historyRows(features: WakeFeatures): Float32Array {
  features.reset();
  return features.window(HISTORY_ROWS);
}

/** One embedding per whole frame of `pcm`, streamed from the reset state. */
export async function clipEmbeddings(
  features: WakeFeatures,
  pcm: Int16Array,
  signal?: AbortSignal,
): Promise<Float32Array> {
  features.reset();
  const frames = Math.floor(pcm.length / FRAME_SAMPLES);
  const out = new Float32Array(frames * EMBEDDING_DIM);
  for (let f = 0; f < frames; f++) {
    signal?.throwIfAborted();
    await features.pushFrame(pcm.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES));
    out.set(features.window(1), f * EMBEDDING_DIM);
  }
  return out;
}

/** Builds a store from per-clip embeddings, putting the history rows in front of each. */
export function buildStore(history: Float32Array, perClip: readonly Float32Array[]): EmbeddingStore {
  if (history.length !== HISTORY_ROWS * EMBEDDING_DIM) {
    throw new Error(`history has ${history.length / EMBEDDING_DIM} rows, expected ${HISTORY_ROWS}`);
  }
  const rows = perClip.reduce((s, c) => s + HISTORY_ROWS + c.length / EMBEDDING_DIM, 0);
  const data = new Float32Array(rows * EMBEDDING_DIM);
  const clips: ClipSpan[] = [];
  let row = 0;
  for (const c of perClip) {
    const frames = c.length / EMBEDDING_DIM;
    data.set(history, row * EMBEDDING_DIM);
    data.set(c, (row + HISTORY_ROWS) * EMBEDDING_DIM);
    clips.push({ row, frames });
    row += HISTORY_ROWS + frames;
  }
  return { data, clips };
}

/** The first row of the window the detector scores after frame `frame` (1-based) of a clip. */
export function windowRow(span: ClipSpan, frame: number): number {
  if (!(frame >= 1 && frame <= span.frames)) throw new Error(`frame ${frame} outside 1..${span.frames}`);
  return span.row + frame - 1;
}

/** The 16 x 96 window starting at `row`, as the detector passes it to a head (no copy). */
export function windowAtRow(store: EmbeddingStore, row: number): Float32Array {
  return store.data.subarray(row * EMBEDDING_DIM, row * EMBEDDING_DIM + WINDOW_VALUES);
}

/** Frame end time (ms from the clip start) of 1-based frame `frame`: when the detector scores it. */
export function frameEndMs(frame: number): number {
  return frame * FRAME_MS;
}

/** Copies the windows starting at `rows` into one [rows.length x 1536] array, for a batch. */
export function gatherWindows(
  store: EmbeddingStore,
  rows: ArrayLike<number>,
  out = new Float32Array(rows.length * WINDOW_VALUES),
): Float32Array {
  for (let i = 0; i < rows.length; i++) out.set(windowAtRow(store, rows[i] ?? 0), i * WINDOW_VALUES);
  return out;
}
