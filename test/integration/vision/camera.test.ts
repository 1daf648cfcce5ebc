import { mkdtempSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { GlassesError } from '../../../firmware-ts/src/errors.js';
import { FileCamera, LedCamera, V4l2Camera, type Camera } from '../../../firmware-ts/src/hal/camera.js';
import { SimulatedClock } from '../../../firmware-ts/src/hal/clock.js';
import { SysfsLed, type Led } from '../../../firmware-ts/src/hal/led.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import { PHOTOS_DIR, VIDEO_DIR } from '../../helpers/vision.js';

const never = new AbortController().signal;

async function size(bytes: Uint8Array): Promise<string> {
  const m = await sharp(bytes).metadata();
  return `${m.width}x${m.height}`;
}

describe('FileCamera', () => {
  it('gives the same image on every capture from an image file', async () => {
    const cam = new FileCamera({
      path: join(PHOTOS_DIR, 'fruits.jpg'),
      clock: new SimulatedClock(),
      captureTimeoutMs: 5000,
    });
    const a = await cam.capture(never);
    const b = await cam.capture(never);
    expect(Buffer.compare(a.bytes, b.bytes)).toBe(0);
    expect(a.source).toBe(join(PHOTOS_DIR, 'fruits.jpg'));
  });

  it('takes the images of a folder in name order, one per capture, and wraps round', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'camera-'));
    await fs.copyFile(join(PHOTOS_DIR, 'fruits.jpg'), join(dir, '2-fruits.jpg'));
    await fs.copyFile(join(PHOTOS_DIR, 'apple.jpg'), join(dir, '1-apple.jpg'));
    await fs.writeFile(join(dir, 'notes.txt'), 'not an image');
    const cam = new FileCamera({ path: dir, clock: new SimulatedClock(), captureTimeoutMs: 5000 });
    const sources = [];
    for (let i = 0; i < 3; i++) sources.push((await cam.capture(never)).source);
    expect(sources).toEqual([join(dir, '1-apple.jpg'), join(dir, '2-fruits.jpg'), join(dir, '1-apple.jpg')]);
  });

  it('reads a video at the clock position through ffmpeg, giving different frames as time passes', async () => {
    const clock = new SimulatedClock();
    const cam = new FileCamera({ path: join(VIDEO_DIR, 'Megamind.avi'), clock, captureTimeoutMs: 10_000 });
    const first = await cam.capture(never);
    await clock.advance(5000);
    const later = await cam.capture(never);
    expect(await size(first.bytes)).toBe(await size(later.bytes));
    expect(Buffer.compare(first.bytes, later.bytes)).not.toBe(0);
    expect(first.source).toMatch(/Megamind\.avi@0\.00s$/);
    expect(later.source).toMatch(/Megamind\.avi@5\.00s$/);
  });

  it('names a missing file', async () => {
    const cam = new FileCamera({
      path: '/nonexistent/photo.jpg',
      clock: new SimulatedClock(),
      captureTimeoutMs: 1000,
    });
    await expect(cam.capture(never)).rejects.toMatchObject({
      code: 'E_CAMERA_OPEN',
      message: expect.stringContaining('/nonexistent/photo.jpg') as string,
    });
  });
});

describe('V4l2Camera', () => {
  it('names the device when it does not exist', async () => {
    const cam = new V4l2Camera({
      device: '/dev/video-absent',
      widthPx: 640,
      heightPx: 480,
      captureTimeoutMs: 5000,
    });
    const err = await cam.capture(never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GlassesError);
    expect(err).toMatchObject({ code: 'E_CAMERA_OPEN' });
    expect((err as GlassesError).message).toContain('/dev/video-absent');
  });

  it('says how to install ffmpeg when it is not there', async () => {
    const cam = new V4l2Camera({
      device: '/dev/video0',
      widthPx: 640,
      heightPx: 480,
      captureTimeoutMs: 5000,
      ffmpeg: '/nonexistent/ffmpeg',
    });
    await expect(cam.capture(never)).rejects.toMatchObject({
      code: 'E_CAMERA_OPEN',
      message: expect.stringContaining('apt-get install ffmpeg') as string,
    });
  });
});

describe('LedCamera', () => {
  class RecordingLed implements Led {
    readonly states: boolean[] = [];
    set(on: boolean): Promise<void> {
      this.states.push(on);
      return Promise.resolve();
    }
  }

  it('lights the LED for exactly the capture, also when it fails', async () => {
    const led = new RecordingLed();
    const seen: boolean[] = [];
    const ok: Camera = {
      capture: () => {
        seen.push(led.states.at(-1) === true);
        return Promise.resolve({ bytes: new Uint8Array([1]), source: 'fake' });
      },
    };
    await new LedCamera(ok, led).capture(never);
    const failing: Camera = {
      capture: () => Promise.reject(new GlassesError('E_CAMERA_FAILED', 'no frame')),
    };
    await expect(new LedCamera(failing, led).capture(never)).rejects.toMatchObject({
      code: 'E_CAMERA_FAILED',
    });
    expect(seen).toEqual([true]);
    expect(led.states).toEqual([true, false, true, false]);
  });

  it('writes 1 and 0 to a sysfs brightness file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'led-')), 'brightness');
    const led = new SysfsLed(file, silentLogger());
    const cam: Camera = {
      capture: async () => {
        expect(await fs.readFile(file, 'utf8')).toBe('1');
        return { bytes: new Uint8Array([1]), source: 'fake' };
      },
    };
    await new LedCamera(cam, led).capture(never);
    expect(await fs.readFile(file, 'utf8')).toBe('0');
  });
});
