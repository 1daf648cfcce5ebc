/** How a detector model is fed and read: what the generic TF.js detector needs to know of each model. */
import type { NormaliseOptions } from '../frame.js';
import type { Scored } from './nms.js';

export interface DetectorModelSpec {
  readonly name: 'nanodet' | 'centernet';
  /** The model input is a square of this side; frames are letterboxed into it (centred, black bars). */
  readonly inputPx: number;
  /** Layout, channel order and scaling of the input tensor. */
  readonly normalise: NormaliseOptions;
  /** Graph outputs to fetch, in the order `decode` takes them (node names, as TF.js names them). */
  readonly outputs: readonly string[];
  /** Outputs -> candidates in model input pixels, each reaching `thresholds[classId]`. */
  decode(outputs: readonly Float32Array[], thresholds: Float32Array): Scored[];
  /**
   * Classes this model names wrongly on real photos, with the score they need to be reported: the
   * defaults under the config's `vision.classMinScore`, which overrides them label by label.
   */
  readonly classMinScore: Readonly<Record<string, number>>;
}

/** The input tensor shape for a spec: [1, 3, side, side] (NCHW) or [1, side, side, 3] (NHWC). */
export function inputShape(spec: DetectorModelSpec): [number, number, number, number] {
  const s = spec.inputPx;
  return spec.normalise.layout === 'nchw' ? [1, 3, s, s] : [1, s, s, 3];
}
