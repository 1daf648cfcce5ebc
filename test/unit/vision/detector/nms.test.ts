import { describe, expect, it } from 'vitest';
import type { Box } from '../../../../firmware-ts/src/vision/frame.js';
import { iou, nonMaxSuppression, type Scored } from '../../../../firmware-ts/src/vision/detector/nms.js';

const cand = (classId: number, score: number, box: Box): Scored => ({ classId, score, box });

describe('iou', () => {
  it('is 1 for the same box and 0 for boxes apart or only touching', () => {
    expect(iou([10, 10, 20, 20], [10, 10, 20, 20])).toBe(1);
    expect(iou([0, 0, 10, 10], [20, 20, 10, 10])).toBe(0);
    expect(iou([0, 0, 10, 10], [10, 0, 10, 10])).toBe(0);
  });

  it('is intersection over union', () => {
    // Two 10x10 boxes sharing a 5x10 strip: 50 / (100 + 100 - 50).
    expect(iou([0, 0, 10, 10], [5, 0, 10, 10])).toBeCloseTo(1 / 3, 10);
    // A box inside another: 25 / 100.
    expect(iou([0, 0, 10, 10], [2, 2, 5, 5])).toBeCloseTo(0.25, 10);
  });

  it('is 0 with an empty box rather than NaN', () => {
    expect(iou([0, 0, 0, 0], [0, 0, 0, 0])).toBe(0);
    expect(iou([0, 0, 10, 10], [5, 5, 0, 4])).toBe(0);
  });
});

describe('nonMaxSuppression', () => {
  const options = { iouThreshold: 0.5, maxDetections: 10 };

  it('keeps the best of overlapping boxes of one class, best first', () => {
    const kept = nonMaxSuppression(
      [cand(47, 0.6, [0, 0, 100, 100]), cand(47, 0.9, [5, 5, 100, 100]), cand(47, 0.7, [300, 0, 50, 50])],
      options,
    );
    expect(kept.map((k) => k.score)).toEqual([0.9, 0.7]);
  });

  it('keeps same-class boxes that overlap no more than the threshold', () => {
    // IoU 1/3 < 0.5: two apples side by side.
    const kept = nonMaxSuppression([cand(47, 0.9, [0, 0, 10, 10]), cand(47, 0.8, [5, 0, 10, 10])], options);
    expect(kept).toHaveLength(2);
  });

  it('keeps overlapping boxes of different classes (a ball in front of a person)', () => {
    const person = cand(0, 0.8, [0, 0, 100, 100]);
    const ball = cand(32, 0.7, [10, 10, 80, 80]); // IoU 0.64
    expect(nonMaxSuppression([person, ball], options)).toEqual([person, ball]);
  });

  it('names one box once when two classes give it the very same place', () => {
    const ball = cand(32, 0.72, [337, 289, 52, 49]);
    const glove = cand(35, 0.42, [337, 289, 52, 50]);
    expect(nonMaxSuppression([glove, ball], options)).toEqual([ball]);
    expect(nonMaxSuppression([glove, ball], { ...options, sameObjectIou: 1 })).toHaveLength(2);
  });

  it('returns at most maxDetections', () => {
    const many = Array.from({ length: 30 }, (_, i) => cand(i % 80, i / 30, [i * 20, 0, 10, 10]));
    const kept = nonMaxSuppression(many, { ...options, maxDetections: 5 });
    expect(kept).toHaveLength(5);
    expect(kept[0]?.score).toBeCloseTo(29 / 30);
  });
});
