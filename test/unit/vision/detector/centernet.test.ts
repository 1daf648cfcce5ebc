import { describe, expect, it } from 'vitest';
import { letterboxGeometry, unletterboxBox } from '../../../../firmware-ts/src/vision/frame.js';
import {
  CENTERNET_INPUT_PX,
  CENTERNET_SPEC,
  decodeCenternet,
} from '../../../../firmware-ts/src/vision/detector/centernet.js';

const thresholds = (v: number): Float32Array => new Float32Array(80).fill(v);
const rows = (...r: number[][]): Float32Array => Float32Array.from(r.flat());

describe('decodeCenternet', () => {
  it('reads x1, y1, x2, y2, score, class rows into boxes, and back to the frame exactly', () => {
    // A 640x480 frame letterboxed into 512: scale 0.8, 512x384 inside, 64 px bars top and bottom.
    const g = letterboxGeometry(640, 480, CENTERNET_INPUT_PX, CENTERNET_INPUT_PX);
    expect([g.scale, g.padX, g.padY]).toEqual([0.8, 0, 64]);
    const out = decodeCenternet(rows([100, 164, 300, 364, 0.8, 32]), thresholds(0.3));
    expect(out).toEqual([
      { classId: 32, score: expect.closeTo(0.8, 6) as number, box: [100, 164, 200, 200] },
    ]);
    const box = unletterboxBox(out[0]!.box, g, 640, 480);
    expect(box.map((v) => Math.round(v * 1e6) / 1e6)).toEqual([125, 125, 250, 250]);
  });

  it('drops rows under their class threshold, with no class, an unknown class or an empty box', () => {
    const t = thresholds(0.3);
    t[65] = 0.5; // remote
    const out = decodeCenternet(
      rows(
        [0, 0, 10, 10, 0.29, 0], // under minScore
        [0, 0, 10, 10, 0.4, 65], // under the remote threshold
        [0, 0, 10, 10, 0.9, Number.NaN],
        [0, 0, 10, 10, 0.9, 80],
        [0, 0, 10, 10, 0.9, 1.5],
        [10, 10, 10, 20, 0.9, 0], // zero width
        [0, 0, 10, 10, 0.6, 65], // kept
        [0, 0, 10, 10, 0.3, 49], // kept: the threshold is inclusive
      ),
      t,
    );
    expect(out.map((o) => o.classId)).toEqual([65, 49]);
  });

  it('is what the spec decodes from the detections output', () => {
    expect(CENTERNET_SPEC.outputs).toEqual(['tower_0/detections']);
    expect(CENTERNET_SPEC.decode([rows([1, 2, 3, 4, 0.5, 0])], thresholds(0.3))).toHaveLength(1);
  });
});
