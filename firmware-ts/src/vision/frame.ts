/**
 * A camera frame, decoded once (sharp: EXIF orientation, sRGB, no alpha) and shared by the detector and
 * OCR, and the letterbox resize + normalisation each model applies to it.
 */
import sharp from 'sharp';
import { GlassesError, messageOf } from '../errors.js';

/** Upright RGB pixels, row-major, 3 bytes a pixel. */
export interface Frame {
  /** File name or device, for errors and logs; never the pixels themselves. */
  readonly source: string;
  readonly rgb: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** The picture as captured (after EXIF orientation); `rgb` may be a downscaled copy of it. */
  readonly originalWidth: number;
  readonly originalHeight: number;
}

/** `[x, y, width, height]` in pixels. */
export type Box = readonly [number, number, number, number];

/** Smaller than this on either side there is nothing to recognise. */
export const MIN_SIDE_PX = 32;
/**
 * Frames are looked at no larger than this on their long side: enough for OCR of a page held at
 * reading distance, and it bounds the board's memory for an 8000x8000 photo to ~11 MB of RGB.
 */
export const MAX_WORKING_SIDE_PX = 1920;
/** libvips refuses to open anything larger (decompression bombs). */
export const MAX_INPUT_PIXELS = 120_000_000;

export interface DecodeOptions {
  maxSidePx?: number;
}

/** Decodes an encoded image (JPEG, PNG, WebP, ...) into a frame. Errors name `source`. */
export async function decodeImage(
  input: Uint8Array,
  source: string,
  options: DecodeOptions = {},
): Promise<Frame> {
  if (input.length === 0) {
    throw new GlassesError('E_IMAGE_INVALID', `image ${source} is empty (0 bytes)`, {
      details: { file: source },
    });
  }
  const maxSide = options.maxSidePx ?? MAX_WORKING_SIDE_PX;
  try {
    // autoOrient applies EXIF orientation, so width/height below are of the upright picture.
    const image = sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'warning' }).autoOrient();
    const { width: originalWidth, height: originalHeight } = (await image.metadata()).autoOrient;
    if (originalWidth < MIN_SIDE_PX || originalHeight < MIN_SIDE_PX) {
      throw new GlassesError(
        'E_IMAGE_INVALID',
        `image ${source} is ${originalWidth}x${originalHeight}, too small to look at (at least ${MIN_SIDE_PX}x${MIN_SIDE_PX})`,
        { details: { file: source, width: originalWidth, height: originalHeight } },
      );
    }
    const { data, info } = await image
      .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new Error(`decoded to ${info.channels} channels, expected 3`);
    }
    return {
      source,
      rgb: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
      originalWidth,
      originalHeight,
    };
  } catch (err) {
    if (err instanceof GlassesError) throw err;
    throw new GlassesError('E_IMAGE_INVALID', `image ${source} cannot be decoded (${messageOf(err)})`, {
      details: { file: source },
      cause: err,
    });
  }
}

/** How a letterboxed model input maps back to the frame it came from. */
export interface Letterbox {
  /** Model input size. */
  readonly width: number;
  readonly height: number;
  /** Frame pixels -> model pixels. */
  readonly scale: number;
  readonly padX: number;
  readonly padY: number;
}

export function letterboxGeometry(
  frameWidth: number,
  frameHeight: number,
  width: number,
  height: number,
): Letterbox {
  const scale = Math.min(width / frameWidth, height / frameHeight);
  const innerW = Math.max(1, Math.round(frameWidth * scale));
  const innerH = Math.max(1, Math.round(frameHeight * scale));
  return {
    width,
    height,
    scale,
    padX: Math.floor((width - innerW) / 2),
    padY: Math.floor((height - innerH) / 2),
  };
}

/** A box in model input pixels -> the same box in frame pixels, clipped to the frame. */
export function unletterboxBox(box: Box, lb: Letterbox, frameWidth: number, frameHeight: number): Box {
  const x0 = clamp((box[0] - lb.padX) / lb.scale, 0, frameWidth);
  const y0 = clamp((box[1] - lb.padY) / lb.scale, 0, frameHeight);
  const x1 = clamp((box[0] + box[2] - lb.padX) / lb.scale, 0, frameWidth);
  const y1 = clamp((box[1] + box[3] - lb.padY) / lb.scale, 0, frameHeight);
  return [x0, y0, x1 - x0, y1 - y0];
}

/** A box in frame pixels -> pixels of the original picture (the frame may be downscaled). */
export function toOriginalBox(box: Box, frame: Frame): Box {
  const sx = frame.originalWidth / frame.width;
  const sy = frame.originalHeight / frame.height;
  return [box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy];
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

export interface LetterboxOptions {
  /** Padding colour, 0..255 for each channel. */
  fill?: readonly [number, number, number];
}

/** Resizes the frame into `width`x`height`, keeping its aspect ratio and padding the rest. */
export async function letterbox(
  frame: Frame,
  width: number,
  height: number,
  options: LetterboxOptions = {},
): Promise<{ rgb: Uint8Array; geometry: Letterbox }> {
  const lb = letterboxGeometry(frame.width, frame.height, width, height);
  const innerW = Math.max(1, Math.round(frame.width * lb.scale));
  const innerH = Math.max(1, Math.round(frame.height * lb.scale));
  const [r, g, b] = options.fill ?? [0, 0, 0];
  const data = await sharp(frame.rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .resize(innerW, innerH, { fit: 'fill' })
    .extend({
      left: lb.padX,
      top: lb.padY,
      right: width - innerW - lb.padX,
      bottom: height - innerH - lb.padY,
      background: { r, g, b },
    })
    .raw()
    .toBuffer();
  return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), geometry: lb };
}

export interface NormaliseOptions {
  /** 'nchw' (ONNX, NanoDet) or 'nhwc' (CenterNet). */
  layout: 'nchw' | 'nhwc';
  /** Per channel, in 0..255 units: value = (pixel - mean) / std. */
  mean?: readonly [number, number, number];
  std?: readonly [number, number, number];
  /** Channel order fed to the model. */
  order?: 'rgb' | 'bgr';
}

/** RGB bytes -> float32 tensor data in the model's layout, mean and scale. */
export function normalise(
  rgb: Uint8Array,
  width: number,
  height: number,
  options: NormaliseOptions,
): Float32Array {
  const [m0, m1, m2] = options.mean ?? [0, 0, 0];
  const [s0, s1, s2] = options.std ?? [1, 1, 1];
  const mean = [m0, m1, m2];
  const inv = [1 / s0, 1 / s1, 1 / s2];
  const src = options.order === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const plane = width * height;
  const out = new Float32Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    const from = src[c] ?? c;
    const mc = mean[c] ?? 0;
    const ic = inv[c] ?? 1;
    if (options.layout === 'nchw') {
      const base = c * plane;
      for (let i = 0; i < plane; i++) out[base + i] = ((rgb[i * 3 + from] ?? 0) - mc) * ic;
    } else {
      for (let i = 0; i < plane; i++) out[i * 3 + c] = ((rgb[i * 3 + from] ?? 0) - mc) * ic;
    }
  }
  return out;
}

export interface PreviewOptions {
  /** Longest side of the JPEG. */
  maxSidePx: number;
  /** Byte cap: the quality steps down until it fits, else the picture is refused (undefined). */
  maxBytes: number;
}

/** JPEG qualities tried in turn; below the last a picture is too poor to be worth sending. */
const PREVIEW_QUALITIES = [80, 65, 50, 35] as const;

/**
 * A small upright sRGB JPEG of an encoded image, for a question about what the wearer sees, without
 * its metadata (EXIF GPS, camera serial). Undefined when no quality fits under `maxBytes`.
 */
export async function encodePreview(
  input: Uint8Array,
  source: string,
  options: PreviewOptions,
): Promise<Uint8Array | undefined> {
  try {
    const resized = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS })
      .autoOrient()
      .resize(options.maxSidePx, options.maxSidePx, { fit: 'inside', withoutEnlargement: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const { width, height, channels } = resized.info;
    for (const quality of PREVIEW_QUALITIES) {
      const jpeg = await sharp(resized.data, { raw: { width, height, channels } })
        .jpeg({ quality, mozjpeg: false })
        .toBuffer();
      if (jpeg.byteLength <= options.maxBytes)
        return new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.length);
    }
    return undefined;
  } catch (err) {
    throw new GlassesError('E_IMAGE_INVALID', `image ${source} cannot be encoded (${messageOf(err)})`, {
      details: { file: source },
      cause: err,
    });
  }
}
