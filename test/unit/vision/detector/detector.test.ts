import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifest, type Manifest } from '../../../../firmware-ts/src/models/manifest.js';
import { PACKAGE_ROOT } from '../../../../firmware-ts/src/paths.js';
import { COCO_LABELS } from '../../../../firmware-ts/src/vision/detector/coco-labels.js';
import {
  classThresholds,
  createDetector,
  DETECTOR_SPECS,
  type DetectorOptions,
} from '../../../../firmware-ts/src/vision/detector/detector.js';

const MODELS_DIR = join(PACKAGE_ROOT, 'models');

const options = (manifest: Manifest, over: Partial<DetectorOptions> = {}): DetectorOptions => ({
  modelsDir: MODELS_DIR,
  manifest,
  model: 'centernet',
  backend: 'wasm',
  minScore: 0.3,
  maxDetections: 20,
  iouThreshold: 0.5,
  ...over,
});

describe('COCO labels', () => {
  it('are the 80 classes, numbered as the models number them', () => {
    expect(COCO_LABELS).toHaveLength(80);
    expect([COCO_LABELS[0], COCO_LABELS[32], COCO_LABELS[47], COCO_LABELS[49], COCO_LABELS[79]]).toEqual([
      'person',
      'sports ball',
      'apple',
      'orange',
      'toothbrush',
    ]);
  });
});

describe('classThresholds', () => {
  it('is minScore, then the model default for a noisy class, then the caller value', () => {
    const t = classThresholds(0.3, { bowl: 0.6, vase: 0.5 }, { vase: 0.2, apple: 0.4 });
    const at = (label: string): number => t[COCO_LABELS.indexOf(label as (typeof COCO_LABELS)[number])] ?? -1;
    expect(t).toHaveLength(80);
    expect(at('person')).toBeCloseTo(0.3);
    expect(at('bowl')).toBeCloseTo(0.6);
    expect(at('vase')).toBeCloseTo(0.2);
    expect(at('apple')).toBeCloseTo(0.4);
  });

  it('refuses a label that is not COCO, naming it', () => {
    expect(() => classThresholds(0.3, {}, { lemon: 0.5 })).toThrow(/"lemon" is not one of the 80 COCO/);
  });

  it('has model defaults only for real labels', () => {
    for (const spec of Object.values(DETECTOR_SPECS)) {
      expect(() => classThresholds(0.3, {}, spec.classMinScore)).not.toThrow();
    }
  });
});

describe('createDetector refuses before loading anything', () => {
  it('a model the manifest does not list', async () => {
    const manifest = await loadManifest(MODELS_DIR);
    const without = { models: manifest.models.filter((m) => m.name !== 'nanodet_weights') };
    await expect(createDetector(options(without, { model: 'nanodet' }))).rejects.toMatchObject({
      code: 'E_MODEL_UNKNOWN',
    });
  });

  it('a manifest input shape the decoder does not feed', async () => {
    const manifest = await loadManifest(MODELS_DIR);
    const resized = {
      models: manifest.models.map((m) =>
        m.name === 'centernet'
          ? { ...m, inputs: [{ name: 'tower_0/images', type: 'float32', shape: [1, 320, 320, 3] }] }
          : m,
      ),
    };
    await expect(createDetector(options(resized))).rejects.toMatchObject({ code: 'E_MODEL_SHAPE' });
  });

  it('a classMinScore label that is not COCO', async () => {
    const manifest = await loadManifest(MODELS_DIR);
    await expect(createDetector(options(manifest, { classMinScore: { lemon: 0.5 } }))).rejects.toMatchObject({
      code: 'E_CONFIG_INVALID',
    });
  });
});
