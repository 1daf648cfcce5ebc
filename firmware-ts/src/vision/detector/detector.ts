/**
 * The COCO-80 object detector port, and its TF.js implementation for NanoDet and CenterNet: letterbox
 * + normalise the frame (preprocess), run the graph (inference), decode + per-class thresholds + NMS
 * (postprocess). Boxes come back in frame pixels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GlassesError, messageOf } from '../../errors.js';
import type { Log } from '../../log.js';
import { findModel, type Manifest, type ModelEntry } from '../../models/manifest.js';
import { letterbox, normalise, unletterboxBox, type Box, type Frame } from '../frame.js';
import { CENTERNET_SPEC } from './centernet.js';
import { COCO_LABELS, isCocoLabel } from './coco-labels.js';
import { NANODET_SPEC } from './nanodet.js';
import { nonMaxSuppression } from './nms.js';
import { inputShape, type DetectorModelSpec } from './spec.js';
import { loadVerifiedGraphModel, tensorName, type BackendName, type GraphModel } from './tfjs.js';

export interface Detection {
  readonly label: string;
  /** Index into COCO_LABELS (0 = person). */
  readonly classId: number;
  /** 0..1 */
  readonly score: number;
  /** `[x, y, w, h]` in frame pixels. */
  readonly box: Box;
}

export interface DetectionTimings {
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
}

export interface ObjectDetector {
  /** 'nanodet' | 'centernet' */
  readonly name: string;
  /** The TF.js backend it runs on: 'wasm' | 'tensorflow' (tfjs-node). */
  readonly backend: string;
  /** Objects in the frame, best first. Rejects with E_ABORTED once `signal` aborts. */
  detect(frame: Frame, signal?: AbortSignal): Promise<{ detections: Detection[]; timings: DetectionTimings }>;
  /** Frees the model's weights; detect() fails afterwards. */
  release(): Promise<void>;
}

export type DetectorModelName = 'nanodet' | 'centernet';

export interface DetectorOptions {
  modelsDir: string;
  manifest: Manifest;
  model: DetectorModelName;
  /**
   * The TF.js backend already made the process's own by the composition root (useBackend in
   * tfjs.ts): TF.js has one engine per process, so no detector chooses it.
   */
  backend: BackendName;
  /** 0..1: objects scoring less are not reported... */
  minScore: number;
  /** ...unless their label has its own threshold here (over the model's own defaults). */
  classMinScore?: Readonly<Record<string, number>>;
  maxDetections: number;
  /** Same-label boxes overlapping more than this are one object. */
  iouThreshold: number;
  log?: Log;
}

export const DETECTOR_SPECS: Readonly<Record<DetectorModelName, DetectorModelSpec>> = {
  nanodet: NANODET_SPEC,
  centernet: CENTERNET_SPEC,
};

/**
 * The score each class needs, indexed by class id: `minScore`, else the model's default for a noisy
 * class, else the caller's own per-label value. E_CONFIG_INVALID for a label that is not COCO's.
 */
export function classThresholds(
  minScore: number,
  modelDefaults: Readonly<Record<string, number>>,
  classMinScore: Readonly<Record<string, number>> = {},
): Float32Array {
  for (const label of Object.keys(classMinScore)) {
    if (!isCocoLabel(label)) {
      throw new GlassesError(
        'E_CONFIG_INVALID',
        `vision.classMinScore: "${label}" is not one of the 80 COCO labels the detector knows`,
        { details: { field: `vision.classMinScore.${label}` } },
      );
    }
  }
  const merged = { ...modelDefaults, ...classMinScore };
  return Float32Array.from(COCO_LABELS, (label) => merged[label] ?? minScore);
}

export async function createDetector(options: DetectorOptions): Promise<ObjectDetector> {
  const spec = DETECTOR_SPECS[options.model];
  const entry = findModel(options.manifest, options.model, 'detector');
  const weights = findModel(options.manifest, `${options.model}_weights`, 'detector-weights');
  checkInput(entry, spec);
  const thresholds = classThresholds(options.minScore, spec.classMinScore, options.classMinScore);
  const backend = options.backend;
  // Checked, not trusted: a detector must never run on another backend than the one it reports.
  const active = tf.getBackend() as string | undefined;
  if (active !== backend)
    throw new GlassesError(
      'E_VISION_BACKEND',
      `vision backend ${backend}: TF.js runs on ${active ?? 'no backend'}; the composition root chooses it first (useBackend)`,
      { details: { backend } },
    );
  const graph = await loadVerifiedGraphModel(options.modelsDir, entry, weights);
  options.log?.info({ model: spec.name, backend, inputPx: spec.inputPx }, 'object detector loaded');
  return new TfjsDetector(spec, backend, graph, tensorName(entry.inputs[0]?.name ?? ''), thresholds, options);
}

/** The manifest's input must be the shape the spec feeds (a different export would decode wrongly). */
function checkInput(entry: ModelEntry, spec: DetectorModelSpec): void {
  const want = inputShape(spec);
  const have = entry.inputs[0]?.shape ?? [];
  if (entry.inputs.length !== 1 || have.join(',') !== want.join(',')) {
    throw new GlassesError(
      'E_MODEL_SHAPE',
      `model ${entry.name} (${entry.file}): the manifest gives input [${have.join(', ')}], the ${spec.name} decoder feeds [${want.join(', ')}]`,
      { details: { model: entry.name, file: entry.file } },
    );
  }
}

class TfjsDetector implements ObjectDetector {
  readonly name: string;
  private released = false;

  constructor(
    private readonly spec: DetectorModelSpec,
    readonly backend: string,
    private readonly graph: GraphModel,
    private readonly inputName: string,
    private readonly thresholds: Float32Array,
    private readonly options: Pick<DetectorOptions, 'iouThreshold' | 'maxDetections' | 'log'>,
  ) {
    this.name = spec.name;
  }

  async detect(
    frame: Frame,
    signal?: AbortSignal,
  ): Promise<{ detections: Detection[]; timings: DetectionTimings }> {
    this.throwIfUnusable(frame, signal);
    const t0 = performance.now();
    const side = this.spec.inputPx;
    const { rgb, geometry } = await letterbox(frame, side, side);
    const input = normalise(rgb, side, side, this.spec.normalise);
    this.throwIfUnusable(frame, signal);
    const t1 = performance.now();
    const outputs = await this.infer(input);
    this.throwIfUnusable(frame, signal);
    const t2 = performance.now();
    const candidates = this.spec.decode(outputs, this.thresholds).map((c) => ({
      ...c,
      box: unletterboxBox(c.box, geometry, frame.width, frame.height),
    }));
    const detections = nonMaxSuppression(
      candidates.filter((c) => c.box[2] > 0 && c.box[3] > 0), // wholly in the letterbox bars
      { iouThreshold: this.options.iouThreshold, maxDetections: this.options.maxDetections },
    ).map((c): Detection => ({
      label: COCO_LABELS[c.classId] ?? 'unknown',
      classId: c.classId,
      score: c.score,
      box: c.box,
    }));
    const timings = { preprocessMs: t1 - t0, inferenceMs: t2 - t1, postprocessMs: performance.now() - t2 };
    this.options.log?.debug(
      { source: frame.source, objects: detections.length, candidates: candidates.length, ...timings },
      'objects detected',
    );
    return { detections, timings };
  }

  /** Runs the graph and copies its outputs out; every tensor is disposed whatever happens. */
  private async infer(input: Float32Array): Promise<Float32Array[]> {
    const tensors: tf.Tensor[] = [];
    try {
      const x = tf.tensor(input, inputShape(this.spec), 'float32');
      tensors.push(x);
      const result = this.graph.execute({ [this.inputName]: x }, [...this.spec.outputs]);
      tensors.push(...(Array.isArray(result) ? result : [result]));
      const outputs = tensors.slice(1);
      return await Promise.all(
        outputs.map(async (t, i) => {
          const data = await t.data();
          if (!(data instanceof Float32Array)) {
            throw new Error(`output ${this.spec.outputs[i] ?? i} is ${t.dtype}, not float32`);
          }
          return data;
        }),
      );
    } catch (err) {
      throw new Error(`detector ${this.name} on ${this.backend}: inference failed (${messageOf(err)})`, {
        cause: err,
      });
    } finally {
      tf.dispose(tensors);
    }
  }

  private throwIfUnusable(frame: Frame, signal: AbortSignal | undefined): void {
    if (signal?.aborted === true) {
      throw new GlassesError('E_ABORTED', `object detection on ${frame.source} cancelled`, {
        details: { file: frame.source },
      });
    }
    if (this.released) throw new Error(`detector ${this.name}: used after release()`);
  }

  release(): Promise<void> {
    if (!this.released) {
      this.released = true;
      this.graph.dispose();
    }
    return Promise.resolve();
  }
}
