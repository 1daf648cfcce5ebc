import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import sharp from 'sharp';
import { describe, expect, it, vi } from 'vitest';
import { GlassesError } from '../../../firmware-ts/src/errors.js';
import type { Camera } from '../../../firmware-ts/src/hal/camera.js';
import type { Intent, IntentName } from '../../../firmware-ts/src/speech/intents.js';
import type { ObjectDetector } from '../../../firmware-ts/src/vision/detector/detector.js';
import type { TextReader, TextLine } from '../../../firmware-ts/src/vision/ocr/ocr.js';
import { VisionService } from '../../../firmware-ts/src/vision/service.js';
import { SAMPLES_DIR } from '../../../firmware-ts/src/paths.js';
import { SimulatedClock } from '../../../firmware-ts/src/hal/clock.js';

const PHOTO = readFileSync(join(SAMPLES_DIR, 'camera', '1-fruits.jpg'));
const intent = (name: IntentName): Intent => ({ name, slots: {} });

function setup(
  options: {
    camera?: Camera;
    lines?: TextLine[];
    clock?: SimulatedClock;
    watchMs?: number;
    preview?: { maxSidePx: number; maxBytes: number };
  } = {},
) {
  const calls = { capture: 0, detect: 0, read: 0 };
  const logged: string[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => logged.push(s) });
  const camera: Camera = options.camera ?? {
    capture: () => {
      calls.capture++;
      return Promise.resolve({ bytes: PHOTO, source: 'fake-camera' });
    },
  };
  const detector: ObjectDetector = {
    name: 'fake',
    backend: 'none',
    detect: (frame) => {
      calls.detect++;
      const box = [frame.width / 4, frame.height / 4, frame.width / 2, frame.height / 2] as const;
      return Promise.resolve({
        detections: [{ label: 'orange', classId: 49, score: 0.9, box }],
        timings: { preprocessMs: 0, inferenceMs: 0, postprocessMs: 0 },
      });
    },
    release: () => Promise.resolve(),
  };
  const reader: TextReader = {
    read: () => {
      calls.read++;
      return Promise.resolve({
        lines: options.lines ?? [{ text: 'Secret note ¥12.50', score: 0.9, box: [100, 200, 300, 40] }],
        timings: { preprocessMs: 0, detectionMs: 0, recognitionMs: 0, postprocessMs: 0 },
      });
    },
    release: () => Promise.resolve(),
  };
  const service = new VisionService({
    camera,
    detector,
    reader,
    confidentScore: 0.5,
    log,
    ...(options.clock === undefined ? {} : { clock: options.clock, watchIntervalMs: options.watchMs ?? 0 }),
    ...(options.preview === undefined ? {} : { preview: options.preview }),
  });
  return { service, calls, logged };
}

describe('VisionService previews for the cloud', () => {
  it('keeps no frame unless previews are enabled', async () => {
    const { service } = setup();
    const signal = new AbortController().signal;
    await service.answer(intent('identify'), signal);
    expect(await service.previewFor(signal)).toBeUndefined();
  });

  it('gives a small JPEG of the frame the turn looked at, and nothing for another turn', async () => {
    const { service } = setup({ preview: { maxSidePx: 320, maxBytes: 40_000 } });
    const turn = new AbortController().signal;
    await service.answer(intent('identify'), turn);
    const jpeg = await service.previewFor(turn);
    expect(jpeg).toBeDefined();
    const meta = await sharp(jpeg).metadata();
    expect(meta.format).toBe('jpeg');
    expect(Math.max(meta.width, meta.height)).toBe(320);
    expect(jpeg?.byteLength).toBeLessThanOrEqual(40_000);
    expect(await service.previewFor(new AbortController().signal)).toBeUndefined();
  });
});

describe('VisionService', () => {
  it('answers "what is this" from one frame, with the detector only', async () => {
    const { service, calls } = setup();
    const signal = new AbortController().signal;
    expect(await service.answer(intent('identify'), signal)).toBe("That's an orange.");
    expect(calls).toEqual({ capture: 1, detect: 1, read: 0 });
  });

  it('answers "how much is this" from the text, with OCR only', async () => {
    const { service, calls } = setup();
    expect(await service.answer(intent('price'), new AbortController().signal)).toBe("It's 12 yuan 50.");
    expect(calls).toEqual({ capture: 1, detect: 0, read: 1 });
  });

  it('keeps the scene for the turn that looked, and only for it', async () => {
    const { service } = setup();
    const turn = new AbortController().signal;
    const other = new AbortController().signal;
    await service.answer(intent('identify'), turn);
    await service.answer(intent('read'), turn);
    const scene = service.sceneFor(turn);
    expect(scene?.objects.map((o) => o.label)).toEqual(['orange']);
    expect(scene?.lines?.map((l) => l.text)).toEqual(['Secret note ¥12.50']);
    expect(scene?.prices).toEqual([expect.objectContaining({ amount: 12.5, currency: 'CNY' })]);
    expect(service.sceneFor(other)).toBeUndefined();
  });

  it('never logs what it read', async () => {
    const { service, logged } = setup();
    await service.answer(intent('read'), new AbortController().signal);
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.join('\n')).not.toContain('Secret');
  });

  it('says the camera is not working when it cannot capture', async () => {
    const { service } = setup({
      camera: {
        capture: () => Promise.reject(new GlassesError('E_CAMERA_OPEN', 'camera /dev/video0: gone')),
      },
    });
    expect(await service.answer(intent('identify'), new AbortController().signal)).toMatch(
      /camera isn't working/,
    );
  });

  it('says it cannot see well when the frame is broken', async () => {
    const { service } = setup({
      camera: { capture: () => Promise.resolve({ bytes: PHOTO.subarray(0, 2000), source: 'cut' }) },
    });
    expect(await service.answer(intent('identify'), new AbortController().signal)).toBe(
      "I can't see well enough to tell.",
    );
  });

  it('stops when the turn is aborted (barge-in) instead of answering', async () => {
    const controller = new AbortController();
    const { service } = setup({
      camera: {
        capture: () => {
          controller.abort();
          return Promise.resolve({ bytes: PHOTO, source: 'fake-camera' });
        },
      },
    });
    await expect(service.answer(intent('identify'), controller.signal)).rejects.toMatchObject({
      code: 'E_ABORTED',
    });
  });

  it('in watch mode answers "what is this" from the latest look, and captures again once it is stale', async () => {
    const clock = new SimulatedClock();
    const { service, calls } = setup({ clock, watchMs: 2000 });
    const stop = new AbortController();
    const watching = service.watch(2000, clock, stop.signal);
    // The first look decodes a real JPEG (sharp, off the main thread): wait for it to be done.
    await vi.waitFor(() => {
      expect(calls.detect).toBe(1);
    });
    expect(calls.capture).toBe(1);
    expect(await service.answer(intent('identify'), new AbortController().signal)).toBe("That's an orange.");
    expect(calls.capture).toBe(1);
    stop.abort();
    await watching;
    await clock.advance(5000);
    await service.answer(intent('identify'), new AbortController().signal);
    expect(calls.capture).toBe(2);
  });
});
