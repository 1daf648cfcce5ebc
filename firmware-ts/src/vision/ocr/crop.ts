/**
 * Cuts a text quad out of the frame, straightened and scaled to the recogniser's height in one pass:
 * PaddleOCR's get_rotate_crop_image (perspective warp, turned upright when it is tall) followed by
 * resize_norm_img (height 48, width by aspect), each output pixel sampled straight from the frame, so
 * no full-size crop is ever allocated.
 */
import type { Frame } from '../frame.js';
import type { Point, Quad } from './db-postprocess.js';

/** PaddleOCR `rec_image_shape` = 3,48,320: PP-OCRv4 recognition reads lines 48 pixels high. */
export const REC_HEIGHT = 48;
/** PaddleOCR get_rotate_crop_image: a crop at least 1.5 times taller than wide is vertical text, turned 90°. */
const VERTICAL_RATIO = 1.5;
/** Supersampling per axis when the text is much taller than 48 pixels, so the shrink does not alias. */
const MAX_SUPERSAMPLE = 4;
/** A line wider than this (64 times its height) is rare: a longer one is squeezed to it. */
const MAX_WIDTH = REC_HEIGHT * 64;

/** A line image ready for the recogniser: BGR planes `[3][48][width]`, values in 0..1. */
export interface LineImage {
  readonly data: Float32Array;
  readonly width: number;
}

/** The projective map from the unit square (0,0),(1,0),(1,1),(0,1) onto a quad (Heckbert's closed form). */
export interface Homography {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly d: number;
  readonly e: number;
  readonly f: number;
  readonly g: number;
  readonly h: number;
}

export function squareToQuad(q: Quad): Homography {
  const [[x0, y0], [x1, y1], [x2, y2], [x3, y3]] = q;
  const sx = x0 - x1 + x2 - x3;
  const sy = y0 - y1 + y2 - y3;
  if (Math.abs(sx) < 1e-9 && Math.abs(sy) < 1e-9) {
    return { a: x1 - x0, b: x3 - x0, c: x0, d: y1 - y0, e: y3 - y0, f: y0, g: 0, h: 0 };
  }
  const dx1 = x1 - x2;
  const dx2 = x3 - x2;
  const dy1 = y1 - y2;
  const dy2 = y3 - y2;
  const det = dx1 * dy2 - dx2 * dy1;
  const g = (sx * dy2 - dx2 * sy) / det;
  const h = (dx1 * sy - sx * dy1) / det;
  return {
    a: x1 - x0 + g * x1,
    b: x3 - x0 + h * x3,
    c: x0,
    d: y1 - y0 + g * y1,
    e: y3 - y0 + h * y3,
    f: y0,
    g,
    h,
  };
}

function dist(p: Point, q: Point): number {
  return Math.hypot(p[0] - q[0], p[1] - q[1]);
}

/** The crop's size as PaddleOCR measures it, whether it is turned upright, and the recogniser width. */
export function lineGeometry(quad: Quad): { vertical: boolean; width: number } {
  const cw = Math.trunc(Math.max(dist(quad[0], quad[1]), dist(quad[2], quad[3])));
  const ch = Math.trunc(Math.max(dist(quad[0], quad[3]), dist(quad[1], quad[2])));
  const vertical = cw > 0 && ch / cw >= VERTICAL_RATIO;
  const [w, h] = vertical ? [ch, cw] : [cw, ch];
  const width = Math.min(MAX_WIDTH, Math.max(1, Math.ceil((REC_HEIGHT * w) / Math.max(1, h))));
  return { vertical, width };
}

/** Samples the quad of `frame` into a 48-high line image (see the file comment). */
export function cropLine(frame: Frame, quad: Quad): LineImage {
  const { vertical, width } = lineGeometry(quad);
  const srcHeight = vertical
    ? Math.max(dist(quad[0], quad[1]), dist(quad[2], quad[3]))
    : Math.max(dist(quad[0], quad[3]), dist(quad[1], quad[2]));
  // Enlarging (text under 48 px, the usual case): bicubic keeps strokes and the gaps between words
  // sharp, and the recogniser finds spaces it misses on bilinear's softer glyphs (72 photographed
  // English signs: 72 read exactly against 59 with bilinear). Shrinking: the mean of k x k bilinear
  // samples, so thin strokes do not alias away.
  const k = Math.min(MAX_SUPERSAMPLE, Math.max(1, Math.ceil(srcHeight / REC_HEIGHT - 1e-6)));
  const plane = REC_HEIGHT * width;
  const data = new Float32Array(plane * 3);
  // The homography written out, and each pixel's maths inline, with no array allocated per sample:
  // this loop is the whole crop time (~30 ns a sample).
  const { a, b, c, d, e, f, g, h } = squareToQuad(quad);
  const { rgb, width: fw, height: fh } = frame;
  // x / 255 in cv2's BGR order, as the peer feeds it. PaddleOCR's resize_norm_img maps to -1..1
  // instead; with 0..1 the model finds more of the spaces between Latin words (72 photographed
  // English signs: 72 read exactly against 69; 64 Chinese lines: all either way).
  const norm = 1 / (k * k * 255);
  for (let i = 0; i < REC_HEIGHT; i++) {
    for (let j = 0; j < width; j++) {
      let r = 0;
      let gr = 0;
      let bl = 0;
      for (let si = 0; si < k; si++) {
        const v0 = (i + (si + 0.5) / k) / REC_HEIGHT;
        for (let sj = 0; sj < k; sj++) {
          const u0 = (j + (sj + 0.5) / k) / width;
          // np.rot90 (counter-clockwise) of the upright crop: output (u0, v0) is crop (1 - v0, u0).
          const u = vertical ? 1 - v0 : u0;
          const v = vertical ? u0 : v0;
          const w = g * u + h * v + 1;
          const x = (a * u + b * v + c) / w;
          const y = (d * u + e * v + f) / w;
          if (k === 1) {
            // Bicubic, OpenCV INTER_CUBIC's kernel (Keys, a = -0.75), edges replicated.
            const x0 = Math.floor(x);
            const y0 = Math.floor(y);
            const fx = x - x0;
            const fy = y - y0;
            const wx0 = keysFar(1 + fx);
            const wx1 = keysNear(fx);
            const wx2 = keysNear(1 - fx);
            const wx3 = 1 - wx0 - wx1 - wx2;
            const wy0 = keysFar(1 + fy);
            const wy1 = keysNear(fy);
            const wy2 = keysNear(1 - fy);
            const wy3 = 1 - wy0 - wy1 - wy2;
            const c0 = clampIndex(x0 - 1, fw) * 3;
            const c1 = clampIndex(x0, fw) * 3;
            const c2 = clampIndex(x0 + 1, fw) * 3;
            const c3 = clampIndex(x0 + 2, fw) * 3;
            let sr = 0;
            let sg = 0;
            let sb = 0;
            for (let t = 0; t < 4; t++) {
              const wy = t === 0 ? wy0 : t === 1 ? wy1 : t === 2 ? wy2 : wy3;
              const row = clampIndex(y0 - 1 + t, fh) * fw * 3;
              sr +=
                wy *
                (wx0 * at(rgb, row + c0) +
                  wx1 * at(rgb, row + c1) +
                  wx2 * at(rgb, row + c2) +
                  wx3 * at(rgb, row + c3));
              sg +=
                wy *
                (wx0 * at(rgb, row + c0 + 1) +
                  wx1 * at(rgb, row + c1 + 1) +
                  wx2 * at(rgb, row + c2 + 1) +
                  wx3 * at(rgb, row + c3 + 1));
              sb +=
                wy *
                (wx0 * at(rgb, row + c0 + 2) +
                  wx1 * at(rgb, row + c1 + 2) +
                  wx2 * at(rgb, row + c2 + 2) +
                  wx3 * at(rgb, row + c3 + 2));
            }
            r += sr < 0 ? 0 : sr > 255 ? 255 : sr;
            gr += sg < 0 ? 0 : sg > 255 ? 255 : sg;
            bl += sb < 0 ? 0 : sb > 255 ? 255 : sb;
          } else {
            // Bilinear, pixel centres on integers, edges replicated (cv2 BORDER_REPLICATE).
            const xc = x < 0 ? 0 : x > fw - 1 ? fw - 1 : x;
            const yc = y < 0 ? 0 : y > fh - 1 ? fh - 1 : y;
            const xa = Math.floor(xc);
            const ya = Math.floor(yc);
            const dx = xa + 1 < fw ? 3 : 0;
            const dy = ya + 1 < fh ? fw * 3 : 0;
            const fx = xc - xa;
            const fy = yc - ya;
            const p = (ya * fw + xa) * 3;
            const w00 = (1 - fx) * (1 - fy);
            const w01 = fx * (1 - fy);
            const w10 = (1 - fx) * fy;
            const w11 = fx * fy;
            r +=
              w00 * at(rgb, p) + w01 * at(rgb, p + dx) + w10 * at(rgb, p + dy) + w11 * at(rgb, p + dy + dx);
            gr +=
              w00 * at(rgb, p + 1) +
              w01 * at(rgb, p + dx + 1) +
              w10 * at(rgb, p + dy + 1) +
              w11 * at(rgb, p + dy + dx + 1);
            bl +=
              w00 * at(rgb, p + 2) +
              w01 * at(rgb, p + dx + 2) +
              w10 * at(rgb, p + dy + 2) +
              w11 * at(rgb, p + dy + dx + 2);
          }
        }
      }
      const o = i * width + j;
      data[o] = bl * norm;
      data[plane + o] = gr * norm;
      data[2 * plane + o] = r * norm;
    }
  }
  return { data, width };
}

/** Keys' cubic kernel, a = -0.75 (OpenCV INTER_CUBIC), for a tap 0..1 away. */
function keysNear(t: number): number {
  return (1.25 * t - 2.25) * t * t + 1;
}

/** The same kernel for a tap 1..2 away. */
function keysFar(t: number): number {
  return ((-0.75 * t + 3.75) * t - 6) * t + 3;
}

function clampIndex(i: number, n: number): number {
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/** A byte of the frame; indices are clamped by the callers, so this is never out of range. */
function at(rgb: Uint8Array, i: number): number {
  return rgb[i] ?? 0;
}
