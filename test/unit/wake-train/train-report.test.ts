import { describe, expect, it } from 'vitest';
import type { DetPoint } from '../../../firmware-ts/src/wake-train/det.js';
import {
  forReport,
  thinPoints,
  type HeadEvaluation,
} from '../../../firmware-ts/src/wake-train/train/report.js';
import { TRAIN_THRESHOLDS } from '../../../firmware-ts/src/wake-train/train/threshold.js';

/** Two points of the training grid (logit steps), standing for chosen thresholds. */
const HIGH = TRAIN_THRESHOLDS.find((t) => t > 0.998)!;
const LOW = TRAIN_THRESHOLDS.find((t) => t > 0.37)!;

/** A DET curve on the training grid: FRR rising and FA/h falling with the threshold, in steps. */
function curve(): DetPoint[] {
  return TRAIN_THRESHOLDS.map((threshold) => ({
    threshold,
    frr: Math.round(threshold * 20) / 20,
    faPerHour: Math.round((1 - threshold) * 50) / 10,
    found: 0,
    falseAccepts: 0,
  }));
}

describe('DET curves in the report', () => {
  it('keeps at most the given number of points, both ends and the chosen thresholds', () => {
    const points = curve();
    expect(points.length).toBeGreaterThan(100);
    const thin = thinPoints(points, [HIGH, LOW], 32);
    expect(thin.length).toBeLessThanOrEqual(34);
    expect(thin[0]).toEqual(points[0]);
    expect(thin[thin.length - 1]).toEqual(points[points.length - 1]);
    expect(thin.map((p) => p.threshold)).toEqual(expect.arrayContaining([HIGH, LOW]));
    // Still a curve: in threshold order, a subset of the points.
    const at = thin.map((p) => points.indexOf(p));
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(at.every((i) => i >= 0)).toBe(true);
  });

  it('drops points where nothing changes, before thinning evenly', () => {
    const flat: DetPoint[] = [0.1, 0.2, 0.3, 0.4].map((threshold) => ({
      threshold,
      frr: 0,
      faPerHour: 0,
      found: 5,
      falseAccepts: 0,
    }));
    expect(thinPoints(flat).map((p) => p.threshold)).toEqual([0.1, 0.4]);
    expect(thinPoints(flat, [0.3]).map((p) => p.threshold)).toEqual([0.1, 0.3, 0.4]);
  });

  it('thins every curve of a head and keeps its figures', () => {
    const figures = {
      threshold: HIGH,
      frr: 0.1,
      faPerHour: 0,
      found: 9,
      positives: 10,
      falseAccepts: 0,
      negativeSeconds: 7200,
    };
    const h: HeadEvaluation = {
      name: 'hey_test',
      threshold: HIGH,
      budgetMet: true,
      val: figures,
      test: figures,
      testFalseAcceptsByKind: {},
      det: { val: curve(), test: curve() },
      ordinaryAudio: {
        threshold: LOW,
        budgetMet: true,
        val: figures,
        test: figures,
        testNearMisses: { clips: 3, fired: 0 },
        det: { test: curve() },
      },
    };
    const r = forReport(h);
    expect(r.val).toEqual(h.val);
    expect(r.det.test.length).toBeLessThan(40);
    expect(r.det.val.map((p) => p.threshold)).toContain(HIGH);
    expect(r.ordinaryAudio?.det.test.map((p) => p.threshold)).toContain(LOW);
    expect(h.det.test).toHaveLength(TRAIN_THRESHOLDS.length);
  });
});
