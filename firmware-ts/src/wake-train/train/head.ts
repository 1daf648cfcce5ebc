/**
 * The wake head: openWakeWord's small classifier over the last 16 embeddings.
 *
 *   standardise -> flatten(16 x 96) -> dense 64 -> layer norm -> relu -> dense 64 -> layer norm -> relu
 *   -> dense 1 -> sigmoid
 *
 * (openWakeWord train.py `Model`: Linear, LayerNorm, ReLU twice, then Linear and Sigmoid.) In front,
 * each of the 96 embedding values is standardised with the training data's mean and deviation: the
 * raw embeddings sit around 11 +- 8, and centring them before the first 1536-term dot product keeps
 * its float32 rounding (which differs between TF.js and onnxruntime) small. The weights are plain
 * arrays so that the TF.js trainer, the ONNX exporter and the tests share one description.
 */
import { EMBEDDING_DIM } from '../../wake/features.js';
import { HEAD_WINDOW_EMBEDDINGS } from '../../wake/detector.js';
import { normalFrom, seededRandom } from './random.js';

/** openWakeWord: 64 units per hidden layer. */
export const HEAD_HIDDEN_UNITS = 64;
/** PyTorch's LayerNorm default, which openWakeWord's heads use. */
export const LAYER_NORM_EPSILON = 1e-5;

export interface HeadShape {
  /** Embeddings per window (16). */
  windowEmbeddings: number;
  /** Values per embedding (96). */
  embeddingDim: number;
  hidden: number;
}

export const WAKE_HEAD_SHAPE: HeadShape = {
  windowEmbeddings: HEAD_WINDOW_EMBEDDINGS,
  embeddingDim: EMBEDDING_DIM,
  hidden: HEAD_HIDDEN_UNITS,
};

/** Dense kernels are [in, out] row-major, as x @ W. */
export interface HeadWeights {
  shape: HeadShape;
  /** Per embedding value (embeddingDim each): x' = (x - inputMean) * inputScale. Fixed, not trained. */
  inputMean: Float32Array;
  inputScale: Float32Array;
  w1: Float32Array;
  b1: Float32Array;
  g1: Float32Array;
  be1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
  g2: Float32Array;
  be2: Float32Array;
  w3: Float32Array;
  b3: Float32Array;
}

export const PARAM_NAMES = ['w1', 'b1', 'g1', 'be1', 'w2', 'b2', 'g2', 'be2', 'w3', 'b3'] as const;
export type ParamName = (typeof PARAM_NAMES)[number];

export function inputSize(shape: HeadShape): number {
  return shape.windowEmbeddings * shape.embeddingDim;
}

/** Each parameter's dimensions. */
export function paramDims(shape: HeadShape): Record<ParamName, [number] | [number, number]> {
  const h = shape.hidden;
  return {
    w1: [inputSize(shape), h],
    b1: [h],
    g1: [h],
    be1: [h],
    w2: [h, h],
    b2: [h],
    g2: [h],
    be2: [h],
    w3: [h, 1],
    b3: [1],
  };
}

/**
 * Fresh weights from a seed: He-normal kernels (the layers feed ReLUs), zero biases, unit layer-norm
 * gains. Drawn in JavaScript, not by TF.js, so they do not depend on the backend.
 */
export function initHeadWeights(
  shape: HeadShape,
  seed: number,
  standardise: { mean: Float32Array; scale: Float32Array } = {
    mean: new Float32Array(shape.embeddingDim),
    scale: new Float32Array(shape.embeddingDim).fill(1),
  },
): HeadWeights {
  const normal = normalFrom(seededRandom(seed));
  const kernel = (fanIn: number, fanOut: number): Float32Array => {
    const std = Math.sqrt(2 / fanIn);
    return Float32Array.from({ length: fanIn * fanOut }, () => normal() * std);
  };
  const h = shape.hidden;
  if (standardise.mean.length !== shape.embeddingDim || standardise.scale.length !== shape.embeddingDim) {
    throw new Error(`standardisation needs ${shape.embeddingDim} means and scales`);
  }
  return {
    shape,
    inputMean: standardise.mean,
    inputScale: standardise.scale,
    w1: kernel(inputSize(shape), h),
    b1: new Float32Array(h),
    g1: new Float32Array(h).fill(1),
    be1: new Float32Array(h),
    w2: kernel(h, h),
    b2: new Float32Array(h),
    g2: new Float32Array(h).fill(1),
    be2: new Float32Array(h),
    w3: kernel(h, 1),
    b3: new Float32Array(1),
  };
}

/**
 * Mean and 1/deviation of each embedding value over `rows` of `data` (rows of `dim` values); a
 * deviation under 1e-3 counts as 1e-3.
 */
export function standardisation(
  data: Float32Array,
  rows: ArrayLike<number>,
  dim: number,
): { mean: Float32Array; scale: Float32Array } {
  const sum = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let i = 0; i < rows.length; i++) {
    const base = (rows[i] ?? 0) * dim;
    for (let d = 0; d < dim; d++) {
      const v = data[base + d] ?? 0;
      sum[d] = (sum[d] ?? 0) + v;
      sq[d] = (sq[d] ?? 0) + v * v;
    }
  }
  const n = Math.max(1, rows.length);
  const mean = new Float32Array(dim);
  const scale = new Float32Array(dim);
  for (let d = 0; d < dim; d++) {
    const m = (sum[d] ?? 0) / n;
    const variance = Math.max(0, (sq[d] ?? 0) / n - m * m);
    mean[d] = m;
    scale[d] = 1 / Math.max(1e-3, Math.sqrt(variance));
  }
  return { mean, scale };
}
