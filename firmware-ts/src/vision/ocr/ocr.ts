/**
 * Reading text on the device: the TextReader port and PP-OCRv4 behind it (detection -> crop ->
 * recognition -> reading order), on two InferenceModels passed in, so tests run it with fakes.
 * Same models and maths as the peer `@gutenye/ocr-node`, without opencv.js: the frame is shrunk for
 * detection only, and lines are cut from the full frame straight to the recogniser's 48-pixel height.
 */
import { performance } from 'node:perf_hooks';
import type { InferenceModel } from '../../inference/model.js';
import type { Box, Frame } from '../frame.js';
import type { Quad } from './db-postprocess.js';
import { readingOrder } from './layout.js';
import { TEXT_DETECTOR_DEFAULTS, TextDetector, type TextDetectorOptions } from './text-detector.js';
import { TextRecognizer, throwIfAborted } from './text-recognizer.js';

export { loadDictionary } from './dictionary.js';
export { blockNearestCentre, readingOrder } from './layout.js';

export interface TextLine {
  readonly text: string;
  /** Mean character probability, 0..1. */
  readonly score: number;
  /** Axis-aligned `[x, y, w, h]` in frame pixels. */
  readonly box: Box;
  /** The text's own (maybe slanted) corners in frame pixels: tl, tr, br, bl. */
  readonly quad?: readonly [number, number][];
}

export interface OcrTimings {
  /** Resizing and normalising the frame for detection, and cutting out the lines. */
  preprocessMs: number;
  detectionMs: number;
  recognitionMs: number;
  /** The probability map to boxes, CTC decoding, reading order. */
  postprocessMs: number;
}

export interface TextReader {
  /** Lines in reading order. Rejects with E_ABORTED when `signal` aborts. */
  read(frame: Frame, signal?: AbortSignal): Promise<{ lines: TextLine[]; timings: OcrTimings }>;
  release(): Promise<void>;
}

export interface PpOcrOptions extends TextDetectorOptions {
  /** Lines whose recognition score is below this are dropped. PaddleOCR `drop_score` = 0.5 (so does the peer). */
  readonly minScore: number;
}

export const PP_OCR_DEFAULTS: PpOcrOptions = { ...TEXT_DETECTOR_DEFAULTS, minScore: 0.5 };

export interface PpOcrDeps {
  detector: InferenceModel;
  recognizer: InferenceModel;
  /** ppocr_keys_v1.txt lines (loadDictionary). */
  dictionary: readonly string[];
  options?: Partial<PpOcrOptions>;
}

export class PpOcrReader implements TextReader {
  private readonly detector: TextDetector;
  private readonly recognizer: TextRecognizer;
  private readonly minScore: number;
  private released = false;

  constructor(private readonly deps: PpOcrDeps) {
    const options = { ...PP_OCR_DEFAULTS, ...deps.options };
    this.detector = new TextDetector(deps.detector, options);
    this.recognizer = new TextRecognizer(deps.recognizer, deps.dictionary);
    this.minScore = options.minScore;
  }

  async read(frame: Frame, signal?: AbortSignal): Promise<{ lines: TextLine[]; timings: OcrTimings }> {
    throwIfAborted(signal, frame.source);
    const det = await this.detector.detect(frame);
    throwIfAborted(signal, frame.source);
    const quads = det.texts.map((t) => t.quad);
    const rec = await this.recognizer.recognize(frame, quads, signal);
    const t0 = performance.now();
    const found: TextLine[] = [];
    for (const [i, r] of rec.lines.entries()) {
      const quad = quads[i];
      if (quad === undefined || r.score < this.minScore || r.text.trim() === '') continue;
      found.push({
        text: r.text,
        score: r.score,
        box: boundingBox(quad),
        quad: quad.map(([x, y]) => [x, y]),
      });
    }
    const lines = readingOrder(found);
    return {
      lines,
      timings: {
        preprocessMs: det.preprocessMs + rec.cropMs,
        detectionMs: det.inferenceMs,
        recognitionMs: rec.inferenceMs,
        postprocessMs: det.postprocessMs + rec.decodeMs + (performance.now() - t0),
      },
    };
  }

  /**
   * Releases both models, once. Only for an owner of the models: main.ts's model set releases the
   * sessions it hands out itself.
   */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await Promise.all([this.deps.detector.release(), this.deps.recognizer.release()]);
  }
}

function boundingBox(quad: Quad): Box {
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  const x0 = Math.min(...xs);
  const y0 = Math.min(...ys);
  return [x0, y0, Math.max(...xs) - x0, Math.max(...ys) - y0];
}
