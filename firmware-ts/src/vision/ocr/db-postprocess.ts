/**
 * DB (Differentiable Binarization) post-processing in plain TypeScript: the text probability map ->
 * binarised -> 8-connected components -> minimum-area rotated rectangle of each (rotating calipers over
 * the convex hull) -> box score -> unclip. The maths of PaddleOCR's `ppocr/postprocess/db_postprocess.py`
 * (which the peer `@gutenye/ocr-common` runs through opencv.js + js-clipper), without either.
 */

/** `[x, y]`. */
export type Point = readonly [number, number];
/** Corners clockwise from the top-left of the text: top-left, top-right, bottom-right, bottom-left. */
export type Quad = readonly [Point, Point, Point, Point];

export interface DbOptions {
  /** Probability above which a map pixel is text. PaddleOCR `det_db_thresh` = 0.3. */
  readonly thresh: number;
  /** Mean probability inside a box below which it is dropped. PaddleOCR `det_db_box_thresh` = 0.6. */
  readonly boxThresh: number;
  /** How far a box grows back out (the model predicts shrunk text). PaddleOCR `det_db_unclip_ratio` = 1.5. */
  readonly unclipRatio: number;
  /** Components looked at, largest-first is not needed: PaddleOCR `max_candidates` = 1000. */
  readonly maxCandidates: number;
}

export const DB_DEFAULTS: DbOptions = { thresh: 0.3, boxThresh: 0.6, unclipRatio: 1.5, maxCandidates: 1000 };

/** PaddleOCR `min_size` = 3: a box whose short side is under 3 map pixels (5 after unclip) is noise. */
const MIN_SIDE = 3;

/** A rotated rectangle: centre, unit vector along its width, width and height. */
export interface RotatedRect {
  readonly cx: number;
  readonly cy: number;
  /** Unit vector along the width; the height runs along `(-uy, ux)`. */
  readonly ux: number;
  readonly uy: number;
  readonly width: number;
  readonly height: number;
}

export interface DbBox {
  /** In map pixels. */
  readonly quad: Quad;
  /** Mean probability inside the box before unclipping, 0..1. */
  readonly score: number;
}

/** Runs the whole post-processing over one `[height, width]` probability map. */
export function dbBoxes(
  prob: Float32Array,
  width: number,
  height: number,
  options: DbOptions = DB_DEFAULTS,
): DbBox[] {
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < mask.length; i++) mask[i] = (prob[i] ?? 0) > options.thresh ? 1 : 0;
  const out: DbBox[] = [];
  let candidates = 0;
  forEachComponent(mask, width, height, (hullInput) => {
    if (candidates++ >= options.maxCandidates) return false;
    const rect = minAreaRect(convexHull(hullInput));
    if (Math.min(rect.width, rect.height) < MIN_SIDE) return true;
    const quad = rectCorners(rect);
    const score = boxScoreFast(prob, width, height, quad);
    if (score < options.boxThresh) return true;
    const grown = unclip(rect, options.unclipRatio);
    if (Math.min(grown.width, grown.height) < MIN_SIDE + 2) return true;
    out.push({ quad: rectCorners(grown), score });
    return true;
  });
  return out;
}

/**
 * Calls `visit` with each 8-connected component of `mask` (1 = set; the mask is consumed) as its
 * leftmost and rightmost pixel on every row, in row order: all a convex hull needs, and what OpenCV's
 * outer contour would give the hull. Holes are ignored (OpenCV's RETR_LIST would also box them; their
 * score is low and PaddleOCR drops them by `boxThresh`). `visit` returns false to stop.
 */
export function forEachComponent(
  mask: Uint8Array,
  width: number,
  height: number,
  visit: (points: Point[]) => boolean,
): void {
  const stack = new Int32Array(width * height);
  const rowMin = new Int32Array(height).fill(width);
  const rowMax = new Int32Array(height).fill(-1);
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] !== 1) continue;
    let top = 0;
    stack[top++] = start;
    mask[start] = 2;
    let yMin = height;
    let yMax = -1;
    while (top > 0) {
      const i = stack[--top] ?? 0;
      const y = (i / width) | 0;
      const x = i - y * width;
      if (x < (rowMin[y] ?? width)) rowMin[y] = x;
      if (x > (rowMax[y] ?? -1)) rowMax[y] = x;
      if (y < yMin) yMin = y;
      if (y > yMax) yMax = y;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const j = ny * width + nx;
          if (mask[j] === 1) {
            mask[j] = 2;
            stack[top++] = j;
          }
        }
      }
    }
    const points: Point[] = [];
    for (let y = yMin; y <= yMax; y++) {
      const lo = rowMin[y] ?? width;
      const hi = rowMax[y] ?? -1;
      if (hi >= 0) {
        points.push([lo, y]);
        if (hi !== lo) points.push([hi, y]);
      }
      rowMin[y] = width;
      rowMax[y] = -1;
    }
    if (!visit(points)) return;
  }
}

function cross(o: Point, a: Point, b: Point): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/** Andrew's monotone chain. `points` must be sorted by y, then x (as forEachComponent gives them). */
export function convexHull(points: readonly Point[]): Point[] {
  if (points.length < 3) return [...points];
  const chain = (pts: readonly Point[]): Point[] => {
    const out: Point[] = [];
    for (const p of pts) {
      for (;;) {
        const a = out[out.length - 2];
        const b = out[out.length - 1];
        if (a === undefined || b === undefined || cross(a, b, p) > 0) break;
        out.pop();
      }
      out.push(p);
    }
    out.pop();
    return out;
  };
  return chain(points).concat(chain([...points].reverse()));
}

/**
 * The minimum-area rectangle around a convex hull (rotating calipers: the best rectangle has a side on
 * a hull edge, so try each edge's direction). Hulls here have tens of points, so the O(n^2) scan is
 * cheaper than the bookkeeping of the O(n) one. Same convention as OpenCV's minAreaRect over pixel
 * coordinates: a solid 10x5 block of pixels gives 9x4.
 */
export function minAreaRect(hull: readonly Point[]): RotatedRect {
  const first = hull[0];
  if (first === undefined) return { cx: 0, cy: 0, ux: 1, uy: 0, width: 0, height: 0 };
  let best: RotatedRect = { cx: first[0], cy: first[1], ux: 1, uy: 0, width: 0, height: 0 };
  let bestArea = Infinity;
  const n = hull.length;
  for (const [i, a] of hull.entries()) {
    const b = hull[(i + 1) % n] ?? a;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (len === 0 && n > 1) continue;
    const ux = len === 0 ? 1 : (b[0] - a[0]) / len;
    const uy = len === 0 ? 0 : (b[1] - a[1]) / len;
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const p of hull) {
      const u = p[0] * ux + p[1] * uy;
      const v = -p[0] * uy + p[1] * ux;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea - 1e-9) {
      bestArea = area;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = {
        cx: cu * ux - cv * uy,
        cy: cu * uy + cv * ux,
        ux,
        uy,
        width: maxU - minU,
        height: maxV - minV,
      };
    }
  }
  return normaliseRect(best);
}

/** The same rectangle described with its width along the direction nearest +x, so text reads left to right. */
function normaliseRect(r: RotatedRect): RotatedRect {
  // Candidate axes: u, v=(-uy,ux), -u, -v; pick the one with the largest x component as the width axis.
  const axes: [number, number, boolean][] = [
    [r.ux, r.uy, false],
    [-r.uy, r.ux, true],
    [-r.ux, -r.uy, false],
    [r.uy, -r.ux, true],
  ];
  let pick: [number, number, boolean] = [r.ux, r.uy, false];
  for (const a of axes) if (a[0] > pick[0] + 1e-12) pick = a;
  const [ux, uy, swapped] = pick;
  return swapped
    ? { cx: r.cx, cy: r.cy, ux, uy, width: r.height, height: r.width }
    : { cx: r.cx, cy: r.cy, ux, uy, width: r.width, height: r.height };
}

/** Corners of a rectangle in the order PaddleOCR's `get_mini_boxes` gives them: tl, tr, br, bl. */
export function rectCorners(r: RotatedRect): Quad {
  const hx = (r.ux * r.width) / 2;
  const hy = (r.uy * r.width) / 2;
  const vx = (-r.uy * r.height) / 2;
  const vy = (r.ux * r.height) / 2;
  const pts: Point[] = [
    [r.cx - hx - vx, r.cy - hy - vy],
    [r.cx + hx - vx, r.cy + hy - vy],
    [r.cx + hx + vx, r.cy + hy + vy],
    [r.cx - hx + vx, r.cy - hy + vy],
  ];
  // get_mini_boxes: sort by x; of the left two the upper is top-left, of the right two the upper is top-right.
  const s = [...pts].sort((a, b) => a[0] - b[0]);
  const [p0, p1, p2, p3] = s as [Point, Point, Point, Point];
  const [tl, bl] = p1[1] > p0[1] ? [p0, p1] : [p1, p0];
  const [tr, br] = p3[1] > p2[1] ? [p2, p3] : [p3, p2];
  return [tl, tr, br, bl];
}

/**
 * Mean probability over the map pixels inside the quad: PaddleOCR's `box_score_fast` (cv2.fillPoly of
 * the box within its bounding rectangle). A pixel counts when its centre is inside or within half a
 * pixel of an edge, as fillPoly's inclusive rasterisation does.
 */
export function boxScoreFast(prob: Float32Array, width: number, height: number, quad: Quad): number {
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  const x0 = clampInt(Math.floor(Math.min(...xs)), 0, width - 1);
  const x1 = clampInt(Math.ceil(Math.max(...xs)), 0, width - 1);
  const y0 = clampInt(Math.floor(Math.min(...ys)), 0, height - 1);
  const y1 = clampInt(Math.ceil(Math.max(...ys)), 0, height - 1);
  const edges = quad.map((a, i) => {
    const b = quad[(i + 1) % 4] ?? a;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
    return { ax: a[0], ay: a[1], dx: (b[0] - a[0]) / len, dy: (b[1] - a[1]) / len };
  });
  // Orientation of the quad decides which side of each edge is inside.
  const sign = polygonArea(quad) >= 0 ? 1 : -1;
  let sum = 0;
  let count = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let inside = true;
      for (const e of edges) {
        if (sign * (e.dx * (y - e.ay) - e.dy * (x - e.ax)) < -0.5) {
          inside = false;
          break;
        }
      }
      if (inside) {
        sum += prob[y * width + x] ?? 0;
        count++;
      }
    }
  }
  return count === 0 ? 0 : sum / count;
}

/** Shoelace area, positive when the points run clockwise on screen (y down). */
export function polygonArea(points: readonly Point[]): number {
  let a = 0;
  for (const [i, p] of points.entries()) {
    const q = points[(i + 1) % points.length] ?? p;
    a += p[0] * q[1] - q[0] * p[1];
  }
  return a / 2;
}

/**
 * Grows the rectangle by `area * ratio / perimeter` on every side (DB's unclip). PaddleOCR offsets the
 * polygon with pyclipper (round joins) and takes the minimum-area rectangle of the result; for a
 * rectangle input that is exactly the rectangle grown by the distance on each side.
 */
export function unclip(r: RotatedRect, ratio: number): RotatedRect {
  const perimeter = 2 * (r.width + r.height);
  const distance = perimeter === 0 ? 0 : (r.width * r.height * ratio) / perimeter;
  return { ...r, width: r.width + 2 * distance, height: r.height + 2 * distance };
}

function clampInt(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
