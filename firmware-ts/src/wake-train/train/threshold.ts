/**
 * The threshold a trained head ships with, chosen on the validation split (voices the training never
 * heard, and not the test voices either).
 *
 * Rule: among the thresholds whose false accepts on the validation negatives are at most
 * MAX_FA_PER_HOUR, the one with the lowest FRR on the validation positives; among equal FRRs the
 * highest threshold (det.ts chooseThreshold). If no threshold meets the budget, the one with the
 * fewest false accepts per hour, and among those the lowest FRR, flagged `budgetMet: false`.
 */
import { chooseThreshold, type DetPoint } from '../det.js';

/** The target: at most one false accept every two hours. */
export const MAX_FA_PER_HOUR = 0.5;

export const THRESHOLD_RULE = `lowest validation FRR with validation FA/h <= ${MAX_FA_PER_HOUR}; ties: highest threshold; if none meets it: lowest FA/h, then lowest FRR`;

/** Score <-> logit: the heads end in a sigmoid. */
export function logit(p: number): number {
  return Math.log(p / (1 - p));
}
export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** The logit grid thresholds are chosen on: LOGIT_MIN..LOGIT_MAX in steps of LOGIT_STEP. */
export const LOGIT_MIN = -4;
export const LOGIT_MAX = 15;
export const LOGIT_STEP = 0.125;

/**
 * Thresholds evenly spaced in logit, not in score: heads trained against hours of negatives put
 * their operating point where the score is 0.999.. and scores crowd towards 1, so a grid in score
 * steps has only a few points where the choice is made (0.999, 0.9995, 0.9999), and a head's
 * operating point falls between them. Evenly spaced logits give the same resolution at 0.5 and at
 * 0.99999; the top, logit 15 (1 - 3e-7), is about where float32 scores stop being told apart.
 */
export const TRAIN_THRESHOLDS: readonly number[] = Array.from(
  { length: Math.round((LOGIT_MAX - LOGIT_MIN) / LOGIT_STEP) + 1 },
  (_, i) => sigmoid(LOGIT_MIN + i * LOGIT_STEP),
);

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
