/**
 * PP-OCRv4 text detection: the frame resized to multiples of 32, the DB model, and its probability map
 * turned into text quads in frame pixels. The model runs behind the InferenceModel port.
 */
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { GlassesError } from '../../errors.js';
import type { InferenceModel } from '../../inference/model.js';
import { normalise, type Frame } from '../frame.js';
import { DB_DEFAULTS, dbBoxes, type DbOptions, type Point, type Quad } from './db-postprocess.js';
import { modelOutput } from './model-io.js';

/**
 * PaddleOCR `det_limit_side_len` = 960 with `det_limit_type` = 'max': a frame is shrunk until its long
 * side fits, never enlarged. (The peer feeds the whole picture, which is most of its time.)
 */
export const DET_MAX_SIDE_PX = 960;
/** The DB network downsamples by 32: both sides of its input must be multiples of it. */
const DET_STRIDE = 32;
/**
 * PaddleOCR's det NormalizeImage: ImageNet mean/std over 0..1, applied to the BGR image in this order
 * (PaddleOCR reads with cv2 and never swaps, so the "R" mean meets the blue channel). In 0..255 units.
 */
const DET_MEAN = [0.485 * 255, 0.456 * 255, 0.406 * 255] as const;
const DET_STD = [0.229 * 255, 0.224 * 255, 0.225 * 255] as const;

export interface TextDetectorOptions extends DbOptions {
  readonly maxSidePx: number;
}

export const TEXT_DETECTOR_DEFAULTS: TextDetectorOptions = { ...DB_DEFAULTS, maxSidePx: DET_MAX_SIDE_PX };

export interface DetectedText {
  /** tl, tr, br, bl in frame pixels, clipped to the frame. */
  readonly quad: Quad;
  readonly score: number;
}

export interface DetectionResult {
  readonly texts: DetectedText[];
  readonly preprocessMs: number;
  readonly inferenceMs: number;
  readonly postprocessMs: number;
}

/** The det input size: PaddleOCR's DetResizeForTest (limit 'max', rounded to the stride, at least one stride). */
export function detInputSize(width: number, height: number, maxSidePx: number): [number, number] {
  const ratio = Math.max(width, height) > maxSidePx ? maxSidePx / Math.max(width, height) : 1;
  const w = Math.trunc(width * ratio);
  const h = Math.trunc(height * ratio);
  return [
    Math.max(Math.round(w / DET_STRIDE) * DET_STRIDE, DET_STRIDE),
    Math.max(Math.round(h / DET_STRIDE) * DET_STRIDE, DET_STRIDE),
  ];
}

export class TextDetector {
  private readonly options: TextDetectorOptions;

  constructor(
    private readonly model: InferenceModel,
    options: Partial<TextDetectorOptions> = {},
  ) {
    this.options = { ...TEXT_DETECTOR_DEFAULTS, ...options };
  }

  async detect(frame: Frame): Promise<DetectionResult> {
    const t0 = performance.now();
    const [w, h] = detInputSize(frame.width, frame.height, this.options.maxSidePx);
    // A plain resize (PaddleOCR's cv2.resize; sharp's default kernel is sharper, same geometry).
    const rgb =
      w === frame.width && h === frame.height
        ? frame.rgb
        : await sharp(frame.rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } })
            .resize(w, h, { fit: 'fill' })
            .raw()
            .toBuffer();
    const input = normalise(rgb, w, h, { layout: 'nchw', order: 'bgr', mean: DET_MEAN, std: DET_STD });
    const t1 = performance.now();
    const out = await modelOutput(this.model, { data: input, dims: [1, 3, h, w] });
    const t2 = performance.now();
    const [mapH, mapW] = out.dims.slice(-2) as [number, number];
    if (out.data.length !== mapH * mapW || mapH !== h || mapW !== w) {
      throw new GlassesError(
        'E_MODEL_SHAPE',
        `model ${this.model.name}: probability map [${out.dims.join(', ')}] for input [1, 3, ${h}, ${w}]; [1, 1, ${h}, ${w}] was expected`,
        { details: { model: this.model.name } },
      );
    }
    const sx = frame.width / mapW;
    const sy = frame.height / mapH;
    const texts: DetectedText[] = [];
    for (const box of dbBoxes(out.data, mapW, mapH, this.options)) {
      const toFrame = ([x, y]: Point): Point => [
        clamp(x * sx, 0, frame.width),
        clamp(y * sy, 0, frame.height),
      ];
      const [tl, tr, br, bl] = box.quad;
      const quad: Quad = [toFrame(tl), toFrame(tr), toFrame(br), toFrame(bl)];
      // PaddleOCR filter_tag_det_res: boxes 3 px or thinner in the frame are dropped.
      if (Math.trunc(dist(quad[0], quad[1])) <= 3 || Math.trunc(dist(quad[0], quad[3])) <= 3) continue;
      texts.push({ quad, score: box.score });
    }
    return { texts, preprocessMs: t1 - t0, inferenceMs: t2 - t1, postprocessMs: performance.now() - t2 };
  }
}

function dist(a: Point, b: Point): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
