/**
 * Several heads as one: each trained alone from its own seed (initial weights, batches, samples) on
 * the same windows, their logits averaged, then the sigmoid. Heads trained from different seeds
 * make different mistakes on voices none of them heard, and the mean is surer than any one of them
 * where they agree (scripts/wake-seeds.ts measured it: three heads' mean missed 65 % of the test
 * positives at the false-accept budget, the heads alone 75-92 %). The runtime sees one model: the
 * export (onnx-head.ts) writes the heads side by side in one graph, which sums their logits the same
 * way as `predict` here, so the two agree to float32 rounding.
 */
import type { DataSize } from '../data/dataset.js';
import type { HeadWeights } from './head.js';
import type { TfHead } from './tfjs-head.js';

/**
 * Heads per detector: three for the heads that ship (each costs ~0.03 ms of the ~1.6 ms a frame
 * takes, `bench wake`), one for the smoke training CI runs.
 */
export const ENSEMBLE_HEADS: Record<DataSize, number> = { smoke: 1, full: 3 };
/** More heads than this cost more than a tenth of a frame's time. */
export const MAX_ENSEMBLE_HEADS = 5;

/** What scores windows: a head, or heads together. */
export interface WindowPredictor {
  /** Scores in 0..1 of `count` windows of `x`. */
  predict(x: Float32Array, count: number): Promise<Float32Array>;
}

export class HeadEnsemble implements WindowPredictor {
  constructor(readonly heads: readonly TfHead[]) {
    if (heads.length === 0) throw new Error('an ensemble needs at least one head');
  }

  async predict(x: Float32Array, count: number): Promise<Float32Array> {
    if (this.heads.length === 1) return (this.heads[0] as TfHead).predict(x, count);
    const logits: Float32Array[] = [];
    for (const head of this.heads) logits.push(await head.logits(x, count));
    return meanLogitScores(logits, count);
  }

  async weights(): Promise<HeadWeights[]> {
    const out: HeadWeights[] = [];
    for (const head of this.heads) out.push(await head.weights());
    return out;
  }

  dispose(): void {
    for (const head of this.heads) head.dispose();
  }
}

/**
 * sigmoid(mean of the heads' logits), in float32 as the exported graph computes it: a running sum in
 * head order (ONNX Sum), times 1/K (Mul by a float32 constant), then the sigmoid.
 */
export function meanLogitScores(logits: readonly Float32Array[], count: number): Float32Array {
  const scale = Math.fround(1 / logits.length);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let sum = logits[0]?.[i] ?? 0;
    for (let k = 1; k < logits.length; k++) sum = Math.fround(sum + (logits[k]?.[i] ?? 0));
    const mean = Math.fround(sum * scale);
    out[i] = 1 / (1 + Math.exp(-mean));
  }
  return out;
}
