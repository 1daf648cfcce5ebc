/**
 * PP-OCRv4 text recognition: each text quad cut out of the frame at height 48 (crop.ts), run through
 * the recognition model behind the InferenceModel port, CTC-decoded with the dictionary.
 */
import { performance } from 'node:perf_hooks';
import { GlassesError } from '../../errors.js';
import type { InferenceModel } from '../../inference/model.js';
import type { Frame } from '../frame.js';
import { cropLine, REC_HEIGHT } from './crop.js';
import type { Quad } from './db-postprocess.js';
import { ctcClassCount, ctcGreedyDecode, type Decoded } from './dictionary.js';
import { modelOutput } from './model-io.js';

export interface RecognitionResult {
  /** One per quad, in the order given. */
  readonly lines: Decoded[];
  readonly cropMs: number;
  readonly inferenceMs: number;
  readonly decodeMs: number;
}

/**
 * One line a run, at its own width. PaddleOCR batches 6 lines padded to the widest (at least 320 px);
 * on onnxruntime's CPU provider that costs more per column (measured 107 us a column for one line of
 * 1280, 180 us in a batch of six, and 450 MB resident instead of 200), and reads the text fixtures
 * no better, so lines go one by one and the peak memory stays that of one line.
 */
export class TextRecognizer {
  constructor(
    private readonly model: InferenceModel,
    private readonly dictionary: readonly string[],
  ) {}

  async recognize(frame: Frame, quads: readonly Quad[], signal?: AbortSignal): Promise<RecognitionResult> {
    const lines: Decoded[] = [];
    let cropMs = 0;
    let inferenceMs = 0;
    let decodeMs = 0;
    for (const quad of quads) {
      throwIfAborted(signal, frame.source);
      const t0 = performance.now();
      const image = cropLine(frame, quad);
      const t1 = performance.now();
      const out = await modelOutput(this.model, { data: image.data, dims: [1, 3, REC_HEIGHT, image.width] });
      const t2 = performance.now();
      const [n, steps, classes] = out.dims;
      if (
        out.dims.length !== 3 ||
        n !== 1 ||
        steps === undefined ||
        classes !== ctcClassCount(this.dictionary) ||
        out.data.length !== steps * classes
      ) {
        throw new GlassesError(
          'E_MODEL_SHAPE',
          `model ${this.model.name}: output [${out.dims.join(', ')}] for one line; the dictionary has ${this.dictionary.length} characters, so [1, T, ${ctcClassCount(this.dictionary)}] was expected`,
          { details: { model: this.model.name } },
        );
      }
      lines.push(ctcGreedyDecode(out.data, 0, steps, classes, this.dictionary));
      cropMs += t1 - t0;
      inferenceMs += t2 - t1;
      decodeMs += performance.now() - t2;
    }
    return { lines, cropMs, inferenceMs, decodeMs };
  }
}

export function throwIfAborted(signal: AbortSignal | undefined, source: string): void {
  if (signal?.aborted === true) {
    throw new GlassesError('E_ABORTED', `reading text in ${source} was cancelled`, {
      details: { file: source },
    });
  }
}
