/**
 * The second stage of the wake detector: a verifier head that judges the frames the streaming head
 * fires on, so that the streaming head can run at a threshold that finds nearly every wearer and the
 * verifier takes back its false accepts.
 *
 * - Stage 1's threshold is the highest at which it still finds STAGE1_MAX_FRR of the validation
 *   positives or fewer are missed (chosen on val, like every threshold here).
 * - The verifier is a wider head (VERIFIER_HIDDEN units) over the same 16 embeddings, trained on
 *   every training positive window and on the negative windows stage 1 scores at or above its
 *   threshold less MINE_MARGIN logits (its false accepts and their neighbours, weighted up), with a
 *   random sample of the other negatives, then mined on its own scores as the first head is.
 * - Combined, a frame's score is the verifier's where stage 1 reaches its threshold, else 0; the
 *   detector's rising-edge and refractory rule then applies to that score, so one DET curve over the
 *   verifier's threshold describes the pair, and the runtime (wake/detector.ts) computes the same.
 * The verifier costs nothing per frame: it runs only on frames stage 1 passes.
 */
import type { EmbeddingStore } from './embeddings.js';
import type { LabelledSplit, WindowSet } from './labels.js';
import { deriveSeed, sampleIndices, seededRandom } from './random.js';
import { logit, sigmoid } from './threshold.js';
import { scoreRows, trainHead, type TrainConfig, type TrainResult } from './trainer.js';
import type { WindowPredictor } from './ensemble.js';
import type { WindowScorer } from './evaluate.js';
import type { DetPoint } from '../det.js';

/** Stage 1 may miss at most this share of the validation positives. */
export const STAGE1_MAX_FRR = 0.02;
/** Negatives within this many logits below stage 1's threshold are its near false accepts. */
export const MINE_MARGIN = 2;
export const VERIFIER_HIDDEN = 128;
/** Random other negatives per positive window, beside stage 1's hard ones. */
const OTHER_NEGATIVES_PER_POSITIVE = 4;
/** Stage 1's hard negatives are weighted at least this (above 1: in every round, trainer.ts). */
const HARD_WEIGHT = 2;

export const STAGE1_RULE = `stage 1: the highest threshold with validation FRR <= ${STAGE1_MAX_FRR}`;

/** The highest threshold on the curve at which at most `maxFrr` of the positives are missed. */
export function stage1Threshold(points: readonly DetPoint[], maxFrr: number = STAGE1_MAX_FRR): number {
  let best: number | undefined;
  for (const p of points)
    if (p.frr <= maxFrr && (best === undefined || p.threshold > best)) best = p.threshold;
  return best ?? Math.min(...points.map((p) => p.threshold));
}

export interface VerifierTraining {
  result: TrainResult;
  /** Training negatives stage 1 scored within the margin, and the score they start at. */
  hardNegatives: number;
  mineFrom: number;
}

/** Trains the verifier for a stage-1 head and its threshold (see the module comment). */
export async function trainVerifier(
  store: EmbeddingStore,
  train: LabelledSplit,
  stage1: WindowPredictor,
  threshold1: number,
  config: TrainConfig,
  hooks: Parameters<typeof trainHead>[3] = {},
): Promise<VerifierTraining> {
  const scores = await scoreRows(stage1, store, train.negatives.rows);
  const mineFrom = sigmoid(logit(threshold1) - MINE_MARGIN);
  const hard: number[] = [];
  const others: number[] = [];
  scores.forEach((s, i) => (s >= mineFrom ? hard : others).push(i));
  const random = seededRandom(deriveSeed(config.seed, 'verifier negatives'));
  const sampled = sampleIndices(
    others.length,
    OTHER_NEGATIVES_PER_POSITIVE * train.positives.rows.length,
    random,
  );
  const chosen = [...hard, ...Array.from(sampled, (k) => others[k] ?? 0)].sort((a, b) => a - b);
  const hardSet = new Set(hard);
  const negatives: WindowSet = {
    rows: Uint32Array.from(chosen, (i) => train.negatives.rows[i] ?? 0),
    labels: Uint8Array.from(chosen, () => 0),
    weights: Float32Array.from(chosen, (i) => {
      const w = train.negatives.weights[i] ?? 1;
      return hardSet.has(i) ? Math.max(w, HARD_WEIGHT) : w;
    }),
    clips: Uint32Array.from(chosen, (i) => train.negatives.clips[i] ?? 0),
  };
  const result = await trainHead(
    store,
    { positives: train.positives, negatives },
    { ...config, hidden: VERIFIER_HIDDEN, seed: deriveSeed(config.seed, 'verifier') },
    hooks,
  );
  return { result, hardNegatives: hard.length, mineFrom };
}

/** The pair as one scorer: the verifier's score where stage 1 reaches `threshold1`, else 0. */
export function combinedScorer(
  stage1: WindowScorer,
  verifier: WindowScorer,
  threshold1: number,
): WindowScorer {
  return async (windows, count) => {
    const first = await stage1(windows, count);
    const second = await verifier(windows, count);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = (first[i] ?? 0) >= threshold1 ? (second[i] ?? 0) : 0;
    return out;
  };
}
