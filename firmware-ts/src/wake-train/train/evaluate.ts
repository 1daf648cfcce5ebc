/**
 * Scores a split's clips frame by frame with any head (the TF.js model being trained, an exported
 * ONNX file, or openWakeWord's pretrained head) and turns the scores into a DET curve with the
 * detector's own counting rule (det.ts). Every head is measured by the same function on the same
 * windows, so the figures compare.
 *
 * The per-frame scores are what WakeDetector computes for the same audio: the window after each
 * frame (embeddings.ts), 0 for the warm-up frames.
 */
import type { InferenceModel } from '../../inference/model.js';
import { scoreWindow } from '../../wake/detector.js';
import type { WakeDataIndex } from '../data/dataset.js';
import { countDetections, detCurve, type DetOptions, type DetPoint, type NegativeScores } from '../det.js';
import {
  FIRST_SCORED_FRAME,
  gatherWindows,
  scoredFrameCount,
  WINDOW_VALUES,
  windowRow,
  type EmbeddingStore,
} from './embeddings.js';
import type { Split } from './labels.js';

/** Scores `count` windows of 16 x 96 values laid end to end. */
export type WindowScorer = (windows: Float32Array, count: number) => Promise<Float32Array>;

/** A runtime model (one window per run, as the detector runs it) as a scorer. */
export function modelScorer(model: InferenceModel): WindowScorer {
  return async (windows, count) => {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = await scoreWindow(model, windows.subarray(i * WINDOW_VALUES, (i + 1) * WINDOW_VALUES));
    }
    return out;
  };
}

/** Per-frame scores of each clip, as the detector would see them (0 during warm-up). */
export async function scoreClips(
  store: EmbeddingStore,
  clips: readonly number[],
  scorer: WindowScorer,
  options: {
    chunkWindows?: number;
    signal?: AbortSignal;
    onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<Float32Array[]> {
  const chunk = options.chunkWindows ?? 4096;
  const out = clips.map((c) => new Float32Array(store.clips[c]?.frames ?? 0));
  // Windows of many clips are scored together: a TF.js batch costs the same for 1 or 4096 windows.
  const pending: { clip: number; frame: number }[] = [];
  const rows: number[] = [];
  const total = clips.reduce((s, c) => s + scoredFrameCount(store.clips[c]?.frames ?? 0), 0);
  let done = 0;
  const buffer = new Float32Array(chunk * WINDOW_VALUES);
  const flush = async (): Promise<void> => {
    if (rows.length === 0) return;
    options.signal?.throwIfAborted();
    const scores = await scorer(gatherWindows(store, rows, buffer), rows.length);
    pending.forEach((p, i) => {
      const arr = out[p.clip];
      if (arr !== undefined) arr[p.frame - 1] = scores[i] ?? 0;
    });
    done += rows.length;
    options.onProgress?.(done, total);
    pending.length = 0;
    rows.length = 0;
  };
  for (let k = 0; k < clips.length; k++) {
    const span = store.clips[clips[k] ?? -1];
    if (span === undefined) continue;
    for (let f = FIRST_SCORED_FRAME; f <= span.frames; f++) {
      pending.push({ clip: k, frame: f });
      rows.push(windowRow(span, f));
      if (rows.length === chunk) await flush();
    }
  }
  await flush();
  return out;
}

export interface SplitScores {
  split: Split;
  positives: Float32Array[];
  negatives: NegativeScores[];
  /** Index positions of the positive and negative clips, in the order of the arrays above. */
  positiveClips: number[];
  negativeClips: number[];
}

export function clipsOf(index: WakeDataIndex, split: Split, label: 'pos' | 'neg'): number[] {
  const out: number[] = [];
  index.clips.forEach((c, i) => {
    if (c.split === split && c.label === label) out.push(i);
  });
  return out;
}

/** Scores a split's positive and negative clips. */
export async function scoreSplit(
  index: WakeDataIndex,
  store: EmbeddingStore,
  split: Split,
  scorer: WindowScorer,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<SplitScores> {
  const positiveClips = clipsOf(index, split, 'pos');
  const negativeClips = clipsOf(index, split, 'neg');
  const all = await scoreClips(store, [...positiveClips, ...negativeClips], scorer, options);
  return {
    split,
    positives: all.slice(0, positiveClips.length),
    negatives: all.slice(positiveClips.length).map((scores, i) => ({
      scores,
      seconds: index.clips[negativeClips[i] ?? -1]?.seconds ?? 0,
    })),
    positiveClips,
    negativeClips,
  };
}

export function splitDet(scores: SplitScores, options: DetOptions = {}): DetPoint[] {
  return detCurve(scores.positives, scores.negatives, options);
}

export interface KindFigures {
  clips: number;
  seconds: number;
  falseAccepts: number;
  faPerHour: number;
  /** Clips with at least one false accept. */
  clipsFired: number;
}

/**
 * False accepts at one threshold, by kind of negative clip. Near-misses ("hey clark") are adversarial:
 * their FA/h says how often the head takes a similar phrase for the wake phrase, the other kinds how
 * often it fires on ordinary speech, noise and music.
 */
export function falseAcceptsByKind(
  index: WakeDataIndex,
  scores: SplitScores,
  threshold: number,
  refractoryMs: number,
): Record<string, KindFigures> {
  const out: Record<string, KindFigures> = {};
  scores.negatives.forEach((n, i) => {
    const kind = index.clips[scores.negativeClips[i] ?? -1]?.kind ?? 'unknown';
    const k = (out[kind] ??= { clips: 0, seconds: 0, falseAccepts: 0, faPerHour: 0, clipsFired: 0 });
    const fired = countDetections(n.scores, threshold, undefined, refractoryMs);
    k.clips++;
    k.seconds += n.seconds;
    k.falseAccepts += fired;
    if (fired > 0) k.clipsFired++;
  });
  for (const k of Object.values(out)) {
    k.faPerHour = k.seconds > 0 ? Math.round((k.falseAccepts / (k.seconds / 3600)) * 1000) / 1000 : 0;
    k.seconds = Math.round(k.seconds * 10) / 10;
  }
  return out;
}
