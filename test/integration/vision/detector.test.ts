/**
 * Both COCO detectors, real models on TF.js wasm, over real photographs (Debian opencv-doc). The truth
 * boxes were read off the photos by eye, in their own pixels, so a box "in the right place" is one
 * overlapping them by IoU >= 0.5.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManifest } from '../../../firmware-ts/src/models/manifest.js';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';
import {
  createDetector,
  type Detection,
  type DetectorModelName,
  type ObjectDetector,
} from '../../../firmware-ts/src/vision/detector/detector.js';
import { useBackend } from '../../../firmware-ts/src/vision/detector/tfjs.js';
import { iou } from '../../../firmware-ts/src/vision/detector/nms.js';
import { decodeImage, type Box, type Frame } from '../../../firmware-ts/src/vision/frame.js';
import { PHOTOS_DIR } from '../../helpers/vision.js';

/** What is in each photo that COCO has a name for; a lime may fairly be called an orange or an apple. */
const TRUTH: Record<string, { labels: string[]; box: Box }[]> = {
  'fruits.jpg': [
    { labels: ['orange'], box: [0, 0, 150, 105] },
    { labels: ['orange'], box: [75, 42, 272, 432] }, // the cut orange in the middle
    { labels: ['orange'], box: [318, 247, 194, 233] }, // a lemon: COCO's nearest
    { labels: ['orange', 'apple'], box: [322, 120, 190, 185] }, // a lime
    { labels: ['banana'], box: [0, 95, 150, 200] },
  ],
  'messi5.jpg': [
    { labels: ['person'], box: [70, 60, 385, 275] },
    { labels: ['sports ball'], box: [337, 288, 52, 48] },
  ],
  'apple.jpg': [{ labels: ['apple'], box: [40, 55, 425, 445] }],
  'orange.jpg': [{ labels: ['orange'], box: [30, 48, 435, 450] }],
  'basketball1.png': [
    { labels: ['person'], box: [35, 80, 130, 400] },
    { labels: ['person'], box: [435, 20, 205, 460] },
    { labels: ['sports ball'], box: [120, 92, 62, 63] },
  ],
  'licenseplate_motion.jpg': [{ labels: ['car'], box: [0, 25, 600, 440] }],
  'baboon.jpg': [], // a mandrill: COCO has no monkey
  'stuff.jpg': [], // a pencil, a coin, a lighter, a lid: nothing COCO names
};
/** The crowd behind the player is people too: more persons there are not false. */
const ALSO_TRUE: Record<string, string[]> = { 'messi5.jpg': ['person'] };

// config.ts defaults (vision.minScore, maxDetections, iouThreshold).
const DEFAULTS = { minScore: 0.3, maxDetections: 20, iouThreshold: 0.5 };

const frames = new Map<string, Frame>();
const detectors = new Map<DetectorModelName, ObjectDetector>();
/** Every model's detections on every photo, computed once. */
const seen = new Map<string, Detection[]>();

function detector(model: DetectorModelName): ObjectDetector {
  const d = detectors.get(model);
  if (d === undefined) throw new Error(`${model} not loaded`);
  return d;
}

function photo(name: string): Frame {
  const f = frames.get(name);
  if (f === undefined) throw new Error(`${name} not decoded`);
  return f;
}

function detections(model: DetectorModelName, name: string): Detection[] {
  return seen.get(`${model}/${name}`) ?? [];
}

function found(model: DetectorModelName, name: string, label: string, box: Box): Detection | undefined {
  return detections(model, name).find((d) => d.label === label && iou(d.box, box) >= 0.5);
}

/** Truth objects found with a right label in the right place, and detections that match nothing true. */
function score(model: DetectorModelName): { hits: number; misses: string[]; falses: string[] } {
  let hits = 0;
  const misses: string[] = [];
  const falses: string[] = [];
  for (const [name, objects] of Object.entries(TRUTH)) {
    const ds = detections(model, name);
    const used = new Set<Detection>();
    for (const o of objects) {
      const d = ds.find((x) => !used.has(x) && o.labels.includes(x.label) && iou(x.box, o.box) >= 0.5);
      if (d === undefined) misses.push(`${name}: ${o.labels.join('/')}`);
      else {
        used.add(d);
        hits++;
      }
    }
    for (const d of ds) {
      if (!used.has(d) && !(ALSO_TRUE[name] ?? []).includes(d.label)) {
        falses.push(`${name}: ${d.label} ${d.score.toFixed(2)}`);
      }
    }
  }
  return { hits, misses, falses };
}

beforeAll(async () => {
  // The composition root chooses the process's backend before any detector.
  await useBackend('wasm');
  const modelsDir = join(PACKAGE_ROOT, 'models');
  const manifest = await loadManifest(modelsDir);
  for (const name of Object.keys(TRUTH)) {
    frames.set(name, await decodeImage(readFileSync(join(PHOTOS_DIR, name)), name));
  }
  for (const model of ['nanodet', 'centernet'] as const) {
    const d = await createDetector({ modelsDir, manifest, model, backend: 'wasm', ...DEFAULTS });
    detectors.set(model, d);
    for (const name of frames.keys()) seen.set(`${model}/${name}`, (await d.detect(photo(name))).detections);
  }
});

afterAll(async () => {
  for (const d of detectors.values()) await d.release();
});

describe.each(['nanodet', 'centernet'] as const)('%s on TF.js wasm', (model) => {
  it('runs on the wasm backend', () => {
    expect(detector(model).backend).toBe('wasm');
    expect(detector(model).name).toBe(model);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('finds the player and the ball in messi5.jpg, the ball low on the right', () => {
    const [player, ball] = TRUTH['messi5.jpg']!;
    expect(found(model, 'messi5.jpg', 'person', player!.box)).toBeDefined();
    const b = found(model, 'messi5.jpg', 'sports ball', ball!.box);
    expect(b).toBeDefined();
    const [x, y, w, h] = b!.box;
    expect(x + w / 2).toBeGreaterThan(548 * 0.6);
    expect(y + h / 2).toBeGreaterThan(342 * 0.8);
  });

  it('finds the cut orange in fruits.jpg', () => {
    expect(found(model, 'fruits.jpg', 'orange', TRUTH['fruits.jpg']![1]!.box)).toBeDefined();
  });

  it('finds both players in basketball1.png and the car in licenseplate_motion.jpg', () => {
    for (const p of TRUTH['basketball1.png']!.slice(0, 2)) {
      expect(found(model, 'basketball1.png', 'person', p.box)).toBeDefined();
    }
    expect(
      found(model, 'licenseplate_motion.jpg', 'car', TRUTH['licenseplate_motion.jpg']![0]!.box),
    ).toBeDefined();
  });

  it('is never sure of anything in the mandrill photo', () => {
    expect(detections(model, 'baboon.jpg').filter((d) => d.score >= 0.5)).toEqual([]);
  });

  it('returns boxes inside the frame, best first, one name per box', () => {
    for (const name of frames.keys()) {
      const f = photo(name);
      const ds = detections(model, name);
      for (const d of ds) {
        expect(d.box[0]).toBeGreaterThanOrEqual(0);
        expect(d.box[1]).toBeGreaterThanOrEqual(0);
        expect(d.box[0] + d.box[2]).toBeLessThanOrEqual(f.width + 1e-6);
        expect(d.box[1] + d.box[3]).toBeLessThanOrEqual(f.height + 1e-6);
      }
      expect(ds.map((d) => d.score)).toEqual([...ds.map((d) => d.score)].sort((a, b) => b - a));
    }
  });

  it('leaks no tensor per frame and times its stages', async () => {
    const before = tf.memory().numTensors;
    const { timings } = await detector(model).detect(photo('messi5.jpg'));
    expect(tf.memory().numTensors).toBe(before);
    expect(timings.preprocessMs).toBeGreaterThan(0);
    expect(timings.inferenceMs).toBeGreaterThan(0);
    expect(timings.postprocessMs).toBeGreaterThanOrEqual(0);
  });

  it('stops with E_ABORTED on an aborted signal, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    const signal = AbortSignal.abort();
    await expect(detector(model).detect(photo('fruits.jpg'), signal)).rejects.toMatchObject({
      code: 'E_ABORTED',
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('which detector to ship', () => {
  it('NanoDet alone finds the close-up orange', () => {
    const [orange] = TRUTH['orange.jpg']!;
    expect(found('nanodet', 'orange.jpg', 'orange', orange!.box)).toBeDefined();
  });

  it('CenterNet names every fruit in fruits.jpg but the banana', () => {
    for (const o of TRUTH['fruits.jpg']!.slice(0, 4)) {
      expect(o.labels.some((l) => found('centernet', 'fruits.jpg', l, o.box))).toBe(true);
    }
  });

  it('CenterNet finds as many true objects as NanoDet with fewer false names', () => {
    const nanodet = score('nanodet');
    const centernet = score('centernet');
    // Measured: both 9 of the 13; false names NanoDet 5, CenterNet 1.
    expect(centernet.hits).toBeGreaterThanOrEqual(9);
    expect(nanodet.hits).toBeGreaterThanOrEqual(9);
    expect(centernet.falses.length).toBeLessThan(nanodet.falses.length);
    expect(centernet.falses.length).toBeLessThanOrEqual(2);
  });
});

describe('a released detector', () => {
  it('refuses to detect', async () => {
    const modelsDir = join(PACKAGE_ROOT, 'models');
    const d = await createDetector({
      modelsDir,
      manifest: await loadManifest(modelsDir),
      model: 'centernet',
      backend: 'wasm',
      ...DEFAULTS,
    });
    const before = tf.memory().numTensors;
    await d.release();
    expect(tf.memory().numTensors).toBeLessThan(before);
    await expect(d.detect(photo('apple.jpg'))).rejects.toThrow(/after release/);
    await d.release(); // twice is harmless
  });
});
