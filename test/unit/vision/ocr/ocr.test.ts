import { describe, expect, it } from 'vitest';
import type { FloatTensor, InferenceModel, Tensor } from '../../../../firmware-ts/src/inference/model.js';
import type { Frame } from '../../../../firmware-ts/src/vision/frame.js';
import { PpOcrReader } from '../../../../firmware-ts/src/vision/ocr/ocr.js';
import { detInputSize } from '../../../../firmware-ts/src/vision/ocr/text-detector.js';

const DICT = ['H', 'i', '¥', '1', '2'];

/** An InferenceModel whose output (with dims) is computed from the input's dims. */
class Fake implements InferenceModel {
  calls: (readonly number[])[] = [];
  released = false;
  constructor(
    readonly name: string,
    readonly outputNames: readonly string[],
    private readonly fn: (dims: readonly number[], call: number) => FloatTensor,
  ) {}
  readonly inputNames = ['x'];
  run(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, FloatTensor>> {
    const dims = feeds.x!.dims;
    this.calls.push(dims);
    return Promise.resolve({ [this.outputNames[0]!]: this.fn(dims, this.calls.length - 1) });
  }
  release(): Promise<void> {
    this.released = true;
    return Promise.resolve();
  }
}

/** A detector that sees text in each rectangle, given as fractions of the input [x0, y0, x1, y1]. */
function detector(rects: [number, number, number, number][], p = 0.9): Fake {
  return new Fake('det', ['sigmoid_0.tmp_0'], (dims) => {
    const [, , h, w] = dims as [number, number, number, number];
    const data = new Float32Array(h * w);
    for (const [fx0, fy0, fx1, fy1] of rects) {
      for (let y = Math.round(fy0 * h); y <= Math.round(fy1 * h); y++)
        for (let x = Math.round(fx0 * w); x <= Math.round(fx1 * w); x++) data[y * w + x] = p;
    }
    return { data, dims: [1, 1, h, w] };
  });
}

/** A recogniser that reads texts[call] (classes: 1 + index in DICT, 6 = space), with probability p. */
function recognizer(texts: readonly string[], p = 0.95, classes = DICT.length + 2): Fake {
  return new Fake('rec', ['softmax_11.tmp_0'], (dims, call) => {
    const steps = Math.max(1, Math.floor((dims[3] ?? 8) / 8));
    const data = new Float32Array(steps * classes);
    const text = texts[call] ?? '';
    for (let t = 0; t < steps; t++) {
      // Characters on even steps, blanks between (so repeated letters survive the collapse).
      const ch = t % 2 === 0 ? text[t / 2] : undefined;
      const cls = ch === undefined ? 0 : ch === ' ' ? DICT.length + 1 : DICT.indexOf(ch) + 1;
      data.fill((1 - p) / (classes - 1), t * classes, (t + 1) * classes);
      data[t * classes + cls] = p;
    }
    return { data, dims: [1, steps, classes] };
  });
}

function frame(width = 400, height = 100): Frame {
  return {
    source: 'fake.png',
    rgb: new Uint8Array(width * height * 3).fill(255),
    width,
    height,
    originalWidth: width,
    originalHeight: height,
  };
}

describe('detInputSize', () => {
  it('rounds to multiples of 32 and shrinks only past the limit (PaddleOCR DetResizeForTest)', () => {
    expect(detInputSize(400, 100, 960)).toEqual([416, 96]);
    expect(detInputSize(1920, 1080, 960)).toEqual([960, 544]);
    expect(detInputSize(20, 10, 960)).toEqual([32, 32]);
  });
});

describe('PpOcrReader (fake models)', () => {
  it('reads each detected box, in reading order, with boxes in frame pixels', async () => {
    // Two boxes on separate rows.
    const det = detector([
      [0.1, 0.2, 0.5, 0.35],
      [0.1, 0.6, 0.4, 0.75],
    ]);
    const rec = recognizer(['Hi', '¥12']);
    const reader = new PpOcrReader({ detector: det, recognizer: rec, dictionary: DICT });
    const { lines, timings } = await reader.read(frame());
    expect(det.calls).toEqual([[1, 3, 96, 416]]);
    expect(rec.calls).toHaveLength(2);
    expect(rec.calls.every((d) => d[0] === 1 && d[1] === 3 && d[2] === 48)).toBe(true);
    expect(lines.map((l) => l.text)).toEqual(['Hi', '¥12']);
    expect(lines[0]!.score).toBeCloseTo(0.95, 5);
    // The first box: map x 42..208 of 416 -> frame 40..200 of 400, grown by the unclip distance.
    const [x, y, w, h] = lines[0]!.box;
    expect(x).toBeGreaterThan(30);
    expect(x).toBeLessThan(40);
    expect(x + w).toBeGreaterThan(200);
    expect(x + w).toBeLessThan(212);
    expect(y).toBeLessThan(20);
    expect(y + h).toBeGreaterThan(35);
    expect(lines[0]!.quad).toHaveLength(4);
    for (const v of Object.values(timings)) expect(v).toBeGreaterThanOrEqual(0);
  });

  it('drops lines scoring under minScore and lines that read as nothing', async () => {
    const det = detector([
      [0.1, 0.2, 0.5, 0.35],
      [0.1, 0.6, 0.4, 0.75],
    ]);
    const low = new PpOcrReader({ detector: det, recognizer: recognizer(['Hi', ''], 0.4), dictionary: DICT });
    expect((await low.read(frame())).lines).toEqual([]);
    const strict = new PpOcrReader({
      detector: det,
      recognizer: recognizer(['Hi', 'Hi'], 0.8),
      dictionary: DICT,
      options: { minScore: 0.9 },
    });
    expect((await strict.read(frame())).lines).toEqual([]);
  });

  it('finds nothing in an empty map without running the recogniser', async () => {
    const rec = recognizer([]);
    const reader = new PpOcrReader({ detector: detector([]), recognizer: rec, dictionary: DICT });
    expect((await reader.read(frame())).lines).toEqual([]);
    expect(rec.calls).toEqual([]);
  });

  it('stops with E_ABORTED when the signal aborts', async () => {
    const reader = new PpOcrReader({
      detector: detector([[0.1, 0.2, 0.5, 0.35]]),
      recognizer: recognizer(['Hi']),
      dictionary: DICT,
    });
    const controller = new AbortController();
    controller.abort();
    await expect(reader.read(frame(), controller.signal)).rejects.toMatchObject({ code: 'E_ABORTED' });
  });

  it('refuses a recogniser whose classes do not match the dictionary (E_MODEL_SHAPE)', async () => {
    const reader = new PpOcrReader({
      detector: detector([[0.1, 0.2, 0.5, 0.35]]),
      recognizer: recognizer(['Hi'], 0.95, DICT.length + 1),
      dictionary: DICT,
    });
    await expect(reader.read(frame())).rejects.toMatchObject({ code: 'E_MODEL_SHAPE' });
  });

  it('shrinks a large frame to maxSidePx for detection', async () => {
    const det = detector([]);
    await new PpOcrReader({
      detector: det,
      recognizer: recognizer([]),
      dictionary: DICT,
      options: { maxSidePx: 320 },
    }).read(frame(1280, 720));
    expect(det.calls).toEqual([[1, 3, 192, 320]]);
  });

  it('releases both models', async () => {
    const det = detector([]);
    const rec = recognizer([]);
    await new PpOcrReader({ detector: det, recognizer: rec, dictionary: DICT }).release();
    expect([det.released, rec.released]).toEqual([true, true]);
  });
});
