import { describe, expect, it } from 'vitest';
import {
  boxScoreFast,
  convexHull,
  dbBoxes,
  DB_DEFAULTS,
  minAreaRect,
  polygonArea,
  rectCorners,
  unclip,
  type Point,
  type Quad,
} from '../../../../firmware-ts/src/vision/ocr/db-postprocess.js';

/** A probability map with `p` inside each filled rectangle [x0, y0, x1, y1] (inclusive) and 0 elsewhere. */
function mapWith(
  width: number,
  height: number,
  rects: [number, number, number, number][],
  p = 0.9,
): Float32Array {
  const m = new Float32Array(width * height);
  for (const [x0, y0, x1, y1] of rects) {
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) m[y * width + x] = p;
  }
  return m;
}

function close(q: Quad, expected: readonly Point[], digits = 6): void {
  q.forEach((p, i) => {
    expect(p[0]).toBeCloseTo(expected[i]![0], digits);
    expect(p[1]).toBeCloseTo(expected[i]![1], digits);
  });
}

describe('DB post-processing', () => {
  it('turns a known rectangle into its box grown by the unclip distance', () => {
    // Pixels x 10..49, y 20..29: OpenCV's minAreaRect over pixel coordinates gives 39 x 9.
    const boxes = dbBoxes(mapWith(64, 48, [[10, 20, 49, 29]]), 64, 48);
    expect(boxes).toHaveLength(1);
    const d = (39 * 9 * 1.5) / (2 * (39 + 9)); // area * ratio / perimeter = 5.484375
    close(boxes[0]!.quad, [
      [10 - d, 20 - d],
      [49 + d, 20 - d],
      [49 + d, 29 + d],
      [10 - d, 29 + d],
    ]);
    expect(boxes[0]!.score).toBeCloseTo(0.9, 6);
  });

  it('unclips by area * ratio / perimeter on every side', () => {
    const r = { cx: 5, cy: 3, ux: 1, uy: 0, width: 100, height: 20 };
    const d = (100 * 20 * 1.5) / 240;
    expect(unclip(r, 1.5)).toEqual({ ...r, width: 100 + 2 * d, height: 20 + 2 * d });
    expect(unclip({ ...r, width: 0, height: 0 }, 1.5).width).toBe(0);
  });

  it('gives two boxes for two separate blobs and one for blobs touching at a corner (8-connected)', () => {
    const two = dbBoxes(
      mapWith(80, 40, [
        [2, 2, 30, 10],
        [40, 20, 70, 30],
      ]),
      80,
      40,
    );
    expect(two).toHaveLength(2);
    // Joined, their rectangle is half empty: one component, kept only with a lower box threshold.
    const joined = mapWith(80, 40, [
      [2, 2, 30, 10],
      [31, 11, 60, 20],
    ]);
    expect(dbBoxes(joined, 80, 40, { ...DB_DEFAULTS, boxThresh: 0.3 })).toHaveLength(1);
    expect(dbBoxes(joined, 80, 40)).toHaveLength(0);
  });

  it('follows a rotated blob with a rotated rectangle', () => {
    // A 60 x 8 bar turned by 20 degrees about (50, 50).
    const w = 100;
    const m = new Float32Array(w * w);
    const a = (20 * Math.PI) / 180;
    for (let y = 0; y < w; y++) {
      for (let x = 0; x < w; x++) {
        const u = (x - 50) * Math.cos(a) + (y - 50) * Math.sin(a);
        const v = -(x - 50) * Math.sin(a) + (y - 50) * Math.cos(a);
        if (Math.abs(u) <= 30 && Math.abs(v) <= 4) m[y * w + x] = 0.95;
      }
    }
    const [box] = dbBoxes(m, w, w);
    const [tl, tr, , bl] = box!.quad;
    expect((Math.atan2(tr[1] - tl[1], tr[0] - tl[0]) * 180) / Math.PI).toBeCloseTo(20, 0);
    // Width 60 and height 8 before unclip, minus the pixel-centre convention, plus 2 * distance.
    const width = Math.hypot(tr[0] - tl[0], tr[1] - tl[1]);
    const height = Math.hypot(bl[0] - tl[0], bl[1] - tl[1]);
    expect(width - height).toBeGreaterThan(50);
    expect(height).toBeGreaterThan(8);
  });

  it('drops boxes below the box threshold, and specks under 3 pixels', () => {
    expect(dbBoxes(mapWith(64, 48, [[10, 20, 49, 29]], 0.5), 64, 48)).toEqual([]);
    expect(
      dbBoxes(mapWith(64, 48, [[10, 20, 49, 29]], 0.5), 64, 48, { ...DB_DEFAULTS, boxThresh: 0.4 }),
    ).toHaveLength(1);
    expect(dbBoxes(mapWith(64, 48, [[10, 20, 49, 21]]), 64, 48)).toEqual([]);
  });

  it('stops at maxCandidates components', () => {
    const rects: [number, number, number, number][] = [];
    for (let i = 0; i < 5; i++) rects.push([2 + i * 12, 2, 10 + i * 12, 12]);
    expect(dbBoxes(mapWith(64, 16, rects), 64, 16, { ...DB_DEFAULTS, maxCandidates: 3 })).toHaveLength(3);
  });
});

describe('geometry', () => {
  it('finds the convex hull of row extremes', () => {
    const hull = convexHull([
      [0, 0],
      [4, 0],
      [2, 1],
      [0, 2],
      [4, 2],
    ]);
    expect(hull).toHaveLength(4);
    expect(Math.abs(polygonArea(hull))).toBe(8);
  });

  it('finds the minimum-area rectangle of a rotated square, not its axis-aligned box', () => {
    const diamond: Point[] = [
      [5, 0],
      [10, 5],
      [5, 10],
      [0, 5],
    ];
    const r = minAreaRect(diamond);
    expect(r.width * r.height).toBeCloseTo(50, 6);
    expect(r.cx).toBeCloseTo(5, 9);
    expect(r.cy).toBeCloseTo(5, 9);
  });

  it('orders corners top-left, top-right, bottom-right, bottom-left', () => {
    const q = rectCorners({ cx: 10, cy: 10, ux: Math.cos(0.1), uy: Math.sin(0.1), width: 10, height: 4 });
    const [tl, tr, br, bl] = q;
    expect(tl[0]).toBeLessThan(tr[0]);
    expect(bl[0]).toBeLessThan(br[0]);
    expect(tl[1]).toBeLessThan(bl[1]);
    expect(tr[1]).toBeLessThan(br[1]);
    expect(polygonArea(q)).toBeCloseTo(40, 6);
  });

  it('scores a box by the mean probability inside it', () => {
    const m = mapWith(20, 10, [[0, 0, 9, 9]], 1);
    // Left half 1, right half 0: a box over columns 5..14 sees half of each.
    const score = boxScoreFast(m, 20, 10, [
      [5, 2],
      [14, 2],
      [14, 7],
      [5, 7],
    ]);
    expect(score).toBeCloseTo(0.5, 6);
  });
});
