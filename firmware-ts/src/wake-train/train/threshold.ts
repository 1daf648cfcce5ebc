/**
 * The threshold a trained head ships with, chosen on the validation split (voices the training never
 * heard, and not the test voices either).
 *
 * Rule: among the thresholds whose false accepts on the validation negatives are at most
 * MAX_FA_PER_HOUR, the one with the lowest FRR on the validation positives; among equal FRRs the
 * highest threshold (det.ts chooseThreshold). If no threshold meets the budget, the one with the
 * fewest false accepts per hour, and among those the lowest FRR, flagged `budgetMet: false`.
 */
import { chooseThreshold, DEFAULT_THRESHOLDS, type DetPoint } from '../det.js';

/** The target: at most one false accept every two hours. */
export const MAX_FA_PER_HOUR = 0.5;

export const THRESHOLD_RULE = `lowest validation FRR with validation FA/h <= ${MAX_FA_PER_HOUR}; ties: highest threshold; if none meets it: lowest FA/h, then lowest FRR`;

/**
 * det.ts's grid, with the top end filled in: a head trained against many negatives puts its
 * operating point above 0.99, where the default grid has only four steps; and above 0.9995 in steps
 * of 0.0001, so that a head whose scores crowd towards 1 is not held at the grid's last step.
 */
export const TRAIN_THRESHOLDS: readonly number[] = [
  ...new Set([
    ...DEFAULT_THRESHOLDS,
    ...Array.from({ length: 18 }, (_, i) => Number((0.991 + i * 0.0005).toFixed(4))),
    0.9996,
    0.9997,
    0.9998,
    0.9999,
  ]),
].sort((a, b) => a - b);

export interface OperatingPoint {
  point: DetPoint;
  budgetMet: boolean;
}

export function chooseOperatingPoint(
  points: readonly DetPoint[],
  maxFaPerHour: number = MAX_FA_PER_HOUR,
): OperatingPoint {
  const within = chooseThreshold(points, maxFaPerHour);
  if (within !== undefined) return { point: within, budgetMet: true };
  let best: DetPoint | undefined;
  for (const p of points) {
    if (
      best === undefined ||
      p.faPerHour < best.faPerHour ||
      (p.faPerHour === best.faPerHour && p.frr < best.frr)
    ) {
      best = p;
    }
  }
  if (best === undefined) throw new Error('no DET points to choose a threshold from');
  return { point: best, budgetMet: false };
}

/** The DET point at a given threshold (which must be on the grid the curve was computed on). */
export function pointAt(points: readonly DetPoint[], threshold: number): DetPoint {
  const p = points.find((q) => q.threshold === threshold);
  if (p === undefined) throw new Error(`threshold ${threshold} is not on the DET grid`);
  return p;
}
