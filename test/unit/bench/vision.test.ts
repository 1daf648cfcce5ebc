/**
 * `bench vision` puts our detector and OCR beside their peers: each ratio is the peer's figure over
 * ours for the same work, from the sides of the same run. The sides are fakes with known speeds;
 * test/integration/bench.test.ts runs the real ones.
 */
import { describe, expect, it } from 'vitest';
import {
  benchVision,
  type RunVisionSide,
  type SideResult,
  type Stages,
} from '../../../firmware-ts/src/bench/vision.js';

function stages(pre: number, inf: number, post: number): Stages {
  return {
    decodeMs: 5,
    preprocessMs: pre,
    inferenceMs: inf,
    postprocessMs: post,
    totalMs: 5 + pre + inf + post,
  };
}

/** Our detector takes 2+15+3 = 20 ms an image, our OCR 100 ms; the peers `slower` times that. */
function fakeSides(slower: { detector: number; ocr: number; memory: number }): {
  run: RunVisionSide;
  asked: string[];
} {
  const asked: string[] = [];
  const run: RunVisionSide = (side, { model, passes, quick }) => {
    asked.push(`${side} ${model} ${passes}${quick ? ' quick' : ''}`);
    const results: Record<SideResult['side'], SideResult> = {
      ours: {
        side: 'ours',
        backend: 'fake',
        detector: stages(2, 15, 3),
        ocr: stages(10, 80, 5),
        rssMb: 400,
        labels: [['apple'], ['person', 'sports ball'], [], [], []],
        texts: [['a'], ['b'], ['c'], ['12.50']],
      },
      'ours-ocr': { side: 'ours-ocr', name: 'ours, OCR only', msPerImage: NaN, rssMb: 150 },
      'peer-human': {
        side: 'peer-human',
        name: 'human',
        msPerImage: 20 * slower.detector,
        rssMb: 500,
        labels: [['apple'], ['person'], [], [], []],
      },
      'peer-ocr': {
        side: 'peer-ocr',
        name: 'ocr',
        msPerImage: 100 * slower.ocr,
        rssMb: 150 * slower.memory,
        texts: [['a'], ['x'], ['c'], ['12.50']],
      },
    };
    return Promise.resolve(results[side]);
  };
  return { run, asked };
}

async function report(argv: string[], run: RunVisionSide): Promise<Record<string, unknown>> {
  const lines: string[] = [];
  expect(await benchVision(['--json', ...argv], (l) => lines.push(l), run)).toBe(0);
  return JSON.parse(lines.at(-1)!) as Record<string, unknown>;
}

describe('bench vision, side by side', () => {
  it('reports each peer N times slower as a ratio of N, the detector timed without decoding', async () => {
    const { run, asked } = fakeSides({ detector: 4, ocr: 0.5, memory: 2 });
    const r = (await report(['--passes', '2', '--model', 'nanodet'], run)) as {
      ratios: Record<string, number>;
      detector: Stages;
      ocr: Stages;
      rssMb: number;
      ocrOnlyRssMb: number;
      agreement: { labels: { image: string; ours: string[]; human: string[] }[]; text: { same: boolean }[] };
    };
    expect(r.ratios).toEqual({ detectorVsHuman: 4, ocrVsGutenye: 0.5, ocrMemoryVsGutenye: 2 });
    expect(r.detector.inferenceMs).toBeLessThanOrEqual(r.detector.totalMs);
    expect(r.ocr.totalMs).toBe(100);
    // Memory beside the OCR peer is our OCR alone, not everything loaded.
    expect([r.rssMb, r.ocrOnlyRssMb]).toEqual([400, 150]);
    expect(r.agreement.labels[1]).toMatchObject({ image: 'messi5.jpg', ours: ['person', 'sports ball'] });
    expect(r.agreement.text.map((t) => t.same)).toEqual([true, false, true, true]);
    expect(asked).toEqual([
      'ours nanodet 2',
      'peer-human nanodet 2',
      'peer-ocr nanodet 2',
      'ours-ocr nanodet 2',
    ]);
  });

  it('refuses bad arguments with E_USAGE before measuring anything', async () => {
    const { run, asked } = fakeSides({ detector: 1, ocr: 1, memory: 1 });
    for (const argv of [
      ['--passes', '0'],
      ['--passes', 'two'],
      ['--model', 'yolo'],
      ['--side', 'theirs'],
      ['--images', '3'],
    ]) {
      await expect(
        benchVision(argv, () => undefined, run),
        argv.join(' '),
      ).rejects.toMatchObject({
        code: 'E_USAGE',
      });
    }
    expect(asked).toEqual([]);
  });
});
