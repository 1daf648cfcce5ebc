import { describe, expect, it } from 'vitest';
import { isGlassesError } from '../../../../firmware-ts/src/errors.js';
import {
  decodeNanodet,
  expectedBin,
  NANODET_INPUT_PX,
  NANODET_SPEC,
  NANODET_STRIDES,
  type NanodetLevel,
} from '../../../../firmware-ts/src/vision/detector/nanodet.js';

const CLASSES = 80;
const BINS = 11;
const APPLE = 47;
const ORANGE = 49;

/** A level of zero scores and flat distributions; `cells` lists cells to light up. */
function level(
  stride: number,
  cells: { cell: number; classId: number; score: number; sides?: [number, number, number, number] }[] = [],
): NanodetLevel {
  const grid = NANODET_INPUT_PX / stride;
  const scores = new Float32Array(grid * grid * CLASSES);
  const distances = new Float32Array(grid * grid * 4 * BINS);
  for (const c of cells) {
    scores[c.cell * CLASSES + c.classId] = c.score;
    // A distribution peaked on one bin per side: logit 40 against 0, so softmax puts ~1 - 4e-17 on it.
    c.sides?.forEach((bin, side) => {
      distances[c.cell * 4 * BINS + side * BINS + bin] = 40;
    });
  }
  return { stride, scores, distances };
}

const thresholds = (v: number): Float32Array => new Float32Array(CLASSES).fill(v);

describe('expectedBin (GFL integral)', () => {
  it('is the bin a distribution is peaked on', () => {
    const v = new Float32Array(BINS);
    v[3] = 40;
    expect(expectedBin(v, 0, BINS)).toBeCloseTo(3, 10);
  });

  it('is the mean of the bins, weighted by softmax', () => {
    const v = new Float32Array(BINS).fill(-1e9);
    v[2] = 5;
    v[3] = 5;
    expect(expectedBin(v, 0, BINS)).toBeCloseTo(2.5, 10);
    // Flat logits: the mean of 0..10.
    expect(expectedBin(new Float32Array(BINS), 0, BINS)).toBeCloseTo(5, 10);
  });
});

describe('decodeNanodet', () => {
  it('turns a lit cell and its distribution into the exact box', () => {
    // Stride 16 (26x26): row 5, column 7 -> centre ((7 + 0.5) * 16, (5 + 0.5) * 16) = (120, 88).
    // Sides left 3, top 2, right 4, bottom 1 bins of 16 px -> x 72..184, y 56..104.
    const levels = [
      level(8),
      level(16, [{ cell: 5 * 26 + 7, classId: APPLE, score: 0.9, sides: [3, 2, 4, 1] }]),
      level(32),
    ];
    const out = decodeNanodet(levels, NANODET_INPUT_PX, thresholds(0.3));
    expect(out).toHaveLength(1);
    expect(out[0]?.classId).toBe(APPLE);
    expect(out[0]?.score).toBeCloseTo(0.9);
    expect(out[0]?.box.map((v) => Math.round(v * 1e6) / 1e6)).toEqual([72, 56, 112, 48]);
  });

  it('places cells by row-major index at each stride', () => {
    // Stride 32 (13x13): the last cell, centre (12.5 * 32, 12.5 * 32) = (400, 400); all sides 0.
    const out = decodeNanodet(
      [level(32, [{ cell: 13 * 13 - 1, classId: 0, score: 0.5, sides: [0, 0, 0, 0] }])],
      NANODET_INPUT_PX,
      thresholds(0.3),
    );
    expect(out[0]?.box.map((v) => Math.round(v * 1e6) / 1e6)).toEqual([400, 400, 0, 0]);
  });

  it('gives every class of a cell above its own threshold, on the same box', () => {
    const t = thresholds(0.3);
    t[APPLE] = 0.6;
    const cell = 10;
    const lit = level(8, [
      { cell, classId: ORANGE, score: 0.5, sides: [1, 1, 1, 1] },
      { cell, classId: APPLE, score: 0.5 }, // under the apple threshold
      { cell, classId: 0, score: 0.31 },
    ]);
    const out = decodeNanodet([lit], NANODET_INPUT_PX, t);
    expect(out.map((o) => o.classId).sort((a, b) => a - b)).toEqual([0, ORANGE]);
    expect(out[0]?.box).toBe(out[1]?.box);
  });

  it('refuses outputs of the wrong size with E_MODEL_SHAPE', () => {
    const bad = { stride: 8, scores: new Float32Array(10), distances: new Float32Array(10) };
    let err: unknown;
    try {
      decodeNanodet([bad], NANODET_INPUT_PX, thresholds(0.3));
    } catch (e) {
      err = e;
    }
    expect(isGlassesError(err, 'E_MODEL_SHAPE')).toBe(true);
  });

  it('takes the graph outputs as scores for strides 8, 16, 32 then boxes for the same strides', () => {
    const levels = [
      level(8),
      level(16),
      level(32, [{ cell: 0, classId: ORANGE, score: 0.8, sides: [0, 0, 2, 2] }]),
    ];
    const outputs = [...levels.map((l) => l.scores), ...levels.map((l) => l.distances)];
    const out = NANODET_SPEC.decode(outputs, thresholds(0.3));
    expect(NANODET_STRIDES).toEqual([8, 16, 32]);
    expect(out.map((o) => [o.classId, ...o.box.map((v) => Math.round(v))])).toEqual([
      [ORANGE, 16, 16, 64, 64],
    ]);
  });
});
