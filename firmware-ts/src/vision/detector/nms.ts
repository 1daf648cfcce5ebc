/** Greedy non-maximum suppression over plain boxes: the decoders' candidates -> one box per object. */
import type { Box } from '../frame.js';

/** A decoded candidate: class id (COCO index), score 0..1 and `[x, y, w, h]` box. */
export interface Scored {
  readonly classId: number;
  readonly score: number;
  readonly box: Box;
}

export interface NmsOptions {
  /** Same-class boxes overlapping more than this are one object (0..1). */
  iouThreshold: number;
  maxDetections: number;
  /**
   * Boxes of different classes overlapping more than this are one object named twice, and only the
   * better name is kept (default SAME_OBJECT_IOU). 1 keeps every class.
   */
  sameObjectIou?: number;
}

/**
 * Both detectors give every class of one grid cell (NanoDet) or heat-map peak (CenterNet) the very
 * same box, so one object comes out as "vase 0.45 + cake 0.35" or "sports ball 0.72 + baseball glove
 * 0.42" with IoU ~1 (seen on apple.jpg and messi5.jpg). Such near-identical boxes are alternative names
 * for one thing; boxes that merely overlap (a cup on a table, a ball in a hand) stay apart.
 */
export const SAME_OBJECT_IOU = 0.9;

/** Intersection over union of two `[x, y, w, h]` boxes; 0 when either is empty. */
export function iou(a: Box, b: Box): number {
  const ix = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const iy = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (ix <= 0 || iy <= 0) return 0;
  const inter = ix * iy;
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Keeps the best-scoring boxes, dropping a box that overlaps a kept box of the same class by more than
 * `iouThreshold`, or of another class by more than `sameObjectIou`. At most `maxDetections`, best first.
 */
export function nonMaxSuppression<T extends Scored>(candidates: readonly T[], options: NmsOptions): T[] {
  const sameObject = options.sameObjectIou ?? SAME_OBJECT_IOU;
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const c of sorted) {
    if (kept.length >= options.maxDetections) break;
    const suppressed = kept.some((k) => {
      const overlap = iou(k.box, c.box);
      return k.classId === c.classId ? overlap > options.iouThreshold : overlap > sameObject;
    });
    if (!suppressed) kept.push(c);
  }
  return kept;
}
