/**
 * The camera port and its adapters. The camera is off unless a turn needs it: each `capture` opens
 * the device, takes one frame and closes it, with the privacy LED lit for exactly that long.
 *
 * - V4L2 on the board, through ffmpeg: one MJPEG frame, passed on as the camera encoded it.
 * - Files on a dev machine: one image, a folder of images (one per capture, in name order), or a
 *   video, read by ffmpeg at the clock's position (so a file run sees what was in view when asked).
 */
import { promises as fs } from 'node:fs';
import { extname, join } from 'node:path';
import { GlassesError, messageOf } from '../errors.js';
import type { Clock } from './clock.js';
import type { Led } from './led.js';
import { describeExit, runChild } from '../util/child.js';

/** One encoded frame (JPEG or PNG bytes) and where it came from; decoded once by the vision stage. */
export interface CapturedImage {
  readonly bytes: Uint8Array;
  /** The device or file, for errors and logs. */
  readonly source: string;
}

export interface Camera {
  capture(signal: AbortSignal): Promise<CapturedImage>;
}

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif']);
export const VIDEO_EXTENSIONS = new Set(['.avi', '.mp4', '.mkv', '.mov', '.webm', '.mjpeg']);

/** Lights the LED while the inner camera captures, and always turns it off again. */
export class LedCamera implements Camera {
  constructor(
    private readonly inner: Camera,
    private readonly led: Led,
  ) {}

  async capture(signal: AbortSignal): Promise<CapturedImage> {
    await this.led.set(true);
    try {
      return await this.inner.capture(signal);
    } finally {
      await this.led.set(false);
    }
  }
}

export interface V4l2CameraOptions {
  device: string;
  widthPx: number;
  heightPx: number;
  captureTimeoutMs: number;
  /** The ffmpeg binary (tests point this elsewhere). */
  ffmpeg?: string;
}

/** A V4L2 device read by ffmpeg: the camera's own MJPEG frame, not re-encoded. */
export class V4l2Camera implements Camera {
  constructor(private readonly options: V4l2CameraOptions) {}

  capture(signal: AbortSignal): Promise<CapturedImage> {
    const o = this.options;
    return grabFrame(
      o.ffmpeg ?? 'ffmpeg',
      [
        ...['-f', 'v4l2', '-input_format', 'mjpeg', '-video_size', `${o.widthPx}x${o.heightPx}`],
        ...['-i', o.device, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'copy', '-'],
      ],
      `camera ${o.device}`,
      o.captureTimeoutMs,
      signal,
    );
  }
}

export interface FileCameraOptions {
  /** An image, a folder of images, or a video. */
  path: string;
  clock: Clock;
  captureTimeoutMs: number;
  ffmpeg?: string;
}

/** The camera of a dev machine: what it sees comes from files. */
export class FileCamera implements Camera {
  private next = 0;
  private readonly startedMs: number;
  private videoSeconds: Promise<number> | undefined;

  constructor(private readonly options: FileCameraOptions) {
    this.startedMs = options.clock.now();
  }

  async capture(signal: AbortSignal): Promise<CapturedImage> {
    const path = this.options.path;
    let stat;
    try {
      stat = await fs.stat(path);
    } catch (err) {
      throw new GlassesError('E_CAMERA_OPEN', `camera file ${path} cannot be opened (${messageOf(err)})`, {
        details: { file: path },
        cause: err,
      });
    }
    if (stat.isDirectory()) return this.fromFolder(path);
    if (VIDEO_EXTENSIONS.has(extname(path).toLowerCase())) return this.fromVideo(path, signal);
    return { bytes: await readImageFile(path), source: path };
  }

  private async fromFolder(dir: string): Promise<CapturedImage> {
    const images = (await fs.readdir(dir))
      .filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()))
      .sort();
    if (images.length === 0) {
      throw new GlassesError('E_CAMERA_OPEN', `camera folder ${dir} holds no images`, {
        details: { file: dir },
      });
    }
    const file = join(dir, images[this.next % images.length] ?? '');
    this.next++;
    return { bytes: await readImageFile(file), source: file };
  }

  private async fromVideo(file: string, signal: AbortSignal): Promise<CapturedImage> {
    this.videoSeconds ??= probeSeconds(file, this.options.captureTimeoutMs);
    const length = await this.videoSeconds;
    // Loop the video: a long session on a short clip still sees something.
    const at = ((this.options.clock.now() - this.startedMs) / 1000) % Math.max(length, 0.04);
    return grabFrame(
      this.options.ffmpeg ?? 'ffmpeg',
      [
        '-ss',
        at.toFixed(3),
        '-i',
        file,
        '-frames:v',
        '1',
        '-f',
        'image2pipe',
        '-c:v',
        'mjpeg',
        '-q:v',
        '3',
        '-',
      ],
      `camera video ${file}`,
      this.options.captureTimeoutMs,
      signal,
    ).then((image) => ({ ...image, source: `${file}@${at.toFixed(2)}s` }));
  }
}

/** An image file's bytes; E_IMAGE_MISSING naming it when it cannot be read. */
export async function readImageFile(file: string): Promise<Uint8Array> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    throw new GlassesError('E_IMAGE_MISSING', `image ${file} cannot be read (${messageOf(err)})`, {
      details: { file },
      cause: err,
    });
  }
}

async function probeSeconds(file: string, timeoutMs: number): Promise<number> {
  const outcome = await runChild(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', file],
    { signal: AbortSignal.timeout(timeoutMs), stderrTail: 2000 },
  );
  const seconds = outcome.kind === 'exited' && outcome.code === 0 ? Number(outcome.stdout.toString()) : NaN;
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new GlassesError(
      'E_CAMERA_OPEN',
      `camera video ${file}: ffprobe cannot read its length (${outcome.kind === 'exited' ? outcome.stderr.trim() || 'no duration' : outcome.kind})`,
      { details: { file } },
    );
  }
  return seconds;
}

/** Runs ffmpeg for one frame on stdout, within a deadline and under the caller's signal. */
async function grabFrame(
  ffmpeg: string,
  args: readonly string[],
  what: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<CapturedImage> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const outcome = await runChild(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-nostdin', ...args], {
    signal: AbortSignal.any([signal, deadline]),
    stderrTail: 2000,
  });
  if (outcome.kind === 'aborted') {
    if (signal.aborted) throw new GlassesError('E_ABORTED', `${what}: capture cancelled`);
    throw new GlassesError('E_CAMERA_FAILED', `${what}: no frame within ${timeoutMs} ms`, {
      details: { device: what },
    });
  }
  if (outcome.kind === 'failed-to-start') {
    throw new GlassesError(
      'E_CAMERA_OPEN',
      `${what}: cannot start ${ffmpeg} (${outcome.error.message}); apt-get install ffmpeg`,
      { details: { device: what }, cause: outcome.error },
    );
  }
  if (outcome.code !== 0 || outcome.stdout.length === 0) {
    const reason = describeExit(outcome, outcome.stderr.trim().split('\n').slice(-2).join(' '));
    throw new GlassesError('E_CAMERA_OPEN', `${what}: ffmpeg gave no frame (${reason})`, {
      details: { device: what },
    });
  }
  return { bytes: outcome.stdout, source: what };
}
