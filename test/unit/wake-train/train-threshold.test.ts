/** The threshold rule, on synthetic per-frame scores whose answer can be worked out by hand. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_THRESHOLDS,
  detCurve,
  type NegativeScores,
} from '../../../firmware-ts/src/wake-train/det.js';
import {
  chooseOperatingPoint,
  logit,
  LOGIT_STEP,
  MAX_FA_PER_HOUR,
  pointAt,
  sigmoid,
  TRAIN_THRESHOLDS,
} from '../../../firmware-ts/src/wake-train/train/threshold.js';

const FRAMES_PER_HOUR = 45_000; // 80 ms frames

/** A positive clip whose best frame scores `max`. */
function positive(max: number): number[] {
  const s = new Array<number>(30).fill(0.01);
  s[20] = max;
  return s;
}

/** An hour of negative audio with isolated spikes (far apart, so each is one detection). */
function hour(spikes: number[]): NegativeScores {
  // Plain numbers: in a Float32Array 0.95 would be 0.9499999881 and miss a 0.95 threshold.
  const scores = new Array<number>(FRAMES_PER_HOUR).fill(0);
  spikes.forEach((s, i) => (scores[1000 + i * 5000] = s));
  return { scores, seconds: 3600 };
}

const POSITIVES = [0.1, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99].map(positive);
// The rule, on a grid whose points can be named by hand (the training grid is in logits, below).
const options = { thresholds: DEFAULT_THRESHOLDS, refractoryMs: 2000 };

describe('TRAIN_THRESHOLDS', () => {
  it('is evenly spaced in logit, from below 0.5 to where float32 scores stop being told apart', () => {
    expect(TRAIN_THRESHOLDS[0]).toBeLessThan(0.05);
    expect(TRAIN_THRESHOLDS[TRAIN_THRESHOLDS.length - 1]).toBeGreaterThan(1 - 1e-6);
    for (let i = 1; i < TRAIN_THRESHOLDS.length; i++) {
      expect(logit(TRAIN_THRESHOLDS[i]!) - logit(TRAIN_THRESHOLDS[i - 1]!)).toBeCloseTo(LOGIT_STEP, 6);
    }
    // As many points between 0.999 and 0.9999 as between 0.5 and 0.9 (about): the old grid had 3.
    const within = (lo: number, hi: number): number =>
      TRAIN_THRESHOLDS.filter((t) => t > lo && t <= hi).length;
    expect(within(0.999, 0.9999)).toBeGreaterThanOrEqual(18);
    expect(sigmoid(logit(0.9985))).toBeCloseTo(0.9985, 12);
  });
});

describe('chooseOperatingPoint', () => {
  it('takes the lowest FRR within 0.5 FA/h, the highest threshold among equals', () => {
    expect(MAX_FA_PER_HOUR).toBe(0.5);
    // Two hours: one false accept (at 0.92) is 0.5 FA/h and allowed, two (0.75 too) are not.
    const points = detCurve(POSITIVES, [hour([0.92, 0.75]), hour([])], options);
    const { point, budgetMet } = chooseOperatingPoint(points);
    expect(budgetMet).toBe(true);
    // Thresholds 0.76..0.80 find the same 5 positives at 0.5 FA/h; the highest of them wins.
    expect(point.threshold).toBe(0.8);
    expect(point.frr).toBeCloseTo(0.5, 10);
    expect(point.faPerHour).toBe(0.5);
    // Just below the 0.75 false accept the budget is broken.
    expect(pointAt(points, 0.75).faPerHour).toBe(1);
  });

  it('needs zero false accepts when the negatives are one hour', () => {
    const { point, budgetMet } = chooseOperatingPoint(detCurve(POSITIVES, [hour([0.92, 0.75])], options));
    expect(budgetMet).toBe(true);
    expect(point.threshold).toBe(0.95);
    expect(point.frr).toBeCloseTo(0.8, 10);
    expect(point.falseAccepts).toBe(0);
  });

  it('when no threshold meets the budget, takes the fewest false accepts, then the lowest FRR', () => {
    // Three negatives at 1.0 fire at any threshold: at least 3 FA/h everywhere.
    const points = detCurve(POSITIVES, [hour([1, 1, 1, 0.5, 0.5])], options);
    const { point, budgetMet } = chooseOperatingPoint(points);
    expect(budgetMet).toBe(false);
    expect(point.faPerHour).toBe(3);
    // The lowest threshold above the 0.5 spikes: it finds the most positives at 3 FA/h.
    expect(point.threshold).toBe(0.51);
    expect(point.found).toBe(7);
  });
});

describe('TRAIN_THRESHOLDS', () => {
  it('is ascending, distinct, in (0, 1), and fine above 0.99', () => {
    const t = TRAIN_THRESHOLDS;
    expect([...t].sort((a, b) => a - b)).toEqual(t);
    expect(new Set(t).size).toBe(t.length);
    expect(t[0]).toBeGreaterThan(0);
    expect(t[t.length - 1]).toBeLessThan(1);
    expect(t.filter((x) => x > 0.99 && x < 0.9999).length).toBeGreaterThanOrEqual(15);
  });
});
