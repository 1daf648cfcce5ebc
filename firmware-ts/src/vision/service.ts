/**
 * The vision intents of the voice loop: one frame captured when the wearer asks, decoded once, looked
 * at by the detector and/or OCR as the question needs, answered in words. The scene is kept for the
 * turn that asked (keyed by its AbortSignal, which the runner drops when the turn ends), as context
 * for the cloud and orders; no pixels are kept, and read text is never logged.
 */
import { GlassesError, isGlassesError } from '../errors.js';
import type { Camera } from '../hal/camera.js';
import type { Clock } from '../hal/clock.js';
import type { Log } from '../log.js';
import type { Intent } from '../speech/intents.js';
import type { VisionPort } from '../voice-loop/ports.js';
import type { ObjectDetector } from './detector/detector.js';
import { decodeImage, encodePreview, type PreviewOptions } from './frame.js';
import type { TextReader } from './ocr/ocr.js';
import { identifyAnswer, priceAnswer, readAnswer, scenePrices, type Scene } from './scene.js';

export interface VisionServiceDeps {
  camera: Camera;
  detector: ObjectDetector;
  reader: TextReader;
  /** Below this the answers hedge instead of naming a guess. */
  confidentScore: number;
  log: Log;
  /** For watch mode: how old its latest look may be and still answer "what is this". */
  clock?: Clock;
  watchIntervalMs?: number;
  /**
   * Set only when pictures may leave the device (cloud.sendImages): the turn's last frame is kept
   * (in memory, for that turn only) so a question about what the wearer sees can carry a small JPEG.
   */
  preview?: PreviewOptions;
}

export interface LookFor {
  objects: boolean;
  text: boolean;
}

const CANT_SEE = "I can't see right now: the camera isn't working.";
const CANT_SEE_WELL = "I can't see well enough to tell.";

export class VisionService implements VisionPort {
  private readonly scenes = new WeakMap<AbortSignal, Scene>();
  /** The encoded frame each turn looked at, kept only when previews are enabled. */
  private readonly frames = new WeakMap<AbortSignal, { bytes: Uint8Array; source: string }>();
  /** Watch mode's latest look at objects, and when (clock ms) it was captured. */
  private watched: { scene: Scene; atMs: number } | undefined;

  constructor(private readonly deps: VisionServiceDeps) {}

  /**
   * Watch mode (off unless configured): a frame every `intervalMs` with the objects in it, so "what is
   * this" answers from a look no older than the interval instead of waiting for the camera. The LED
   * lights for each capture like any other. Runs until `signal` aborts; a failed look is logged and
   * the next one tried.
   */
  async watch(intervalMs: number, clock: Clock, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const atMs = clock.now();
      try {
        const scene = await this.capture({ objects: true, text: false }, signal, false);
        this.watched = { scene, atMs };
      } catch (err) {
        if (isGlassesError(err, 'E_ABORTED')) break;
        this.deps.log.warn({ code: isGlassesError(err) ? err.code : undefined }, 'watch: look failed');
      }
      try {
        await clock.sleep(intervalMs, signal);
      } catch {
        break;
      }
    }
    this.watched = undefined;
  }

  async answer(intent: Intent, signal: AbortSignal): Promise<string> {
    const needs: LookFor =
      intent.name === 'identify' ? { objects: true, text: false } : { objects: false, text: true };
    let scene: Scene;
    try {
      scene = await this.look(needs, signal);
    } catch (err) {
      if (isGlassesError(err, 'E_ABORTED') || !isGlassesError(err)) throw err;
      this.deps.log.warn({ code: err.code, details: err.details }, err.message);
      return err.code === 'E_CAMERA_OPEN' || err.code === 'E_CAMERA_FAILED' ? CANT_SEE : CANT_SEE_WELL;
    }
    switch (intent.name) {
      case 'identify':
        return identifyAnswer(scene, this.deps.confidentScore);
      case 'price':
        return priceAnswer(scene);
      default:
        return readAnswer(scene, this.deps.confidentScore);
    }
  }

  /** The scene this turn looked at, if it looked. */
  sceneFor(signal: AbortSignal): Scene | undefined {
    return this.scenes.get(signal);
  }

  /**
   * A small JPEG of what this turn looked at, when previews are enabled and the turn looked; undefined
   * otherwise (also when it cannot be made small enough).
   */
  async previewFor(signal: AbortSignal): Promise<Uint8Array | undefined> {
    const frame = this.frames.get(signal);
    const options = this.deps.preview;
    if (frame === undefined || options === undefined) return undefined;
    try {
      return await encodePreview(frame.bytes, frame.source, options);
    } catch (err) {
      this.deps.log.warn({ code: isGlassesError(err) ? err.code : undefined }, 'no preview for the cloud');
      return undefined;
    }
  }

  /** Looks for what is asked (from watch mode's latest look when fresh enough); remembered for `signal`'s turn. */
  async look(needs: LookFor, signal: AbortSignal): Promise<Scene> {
    const w = this.watched;
    const fresh =
      w !== undefined &&
      this.deps.clock !== undefined &&
      this.deps.clock.now() - w.atMs <= (this.deps.watchIntervalMs ?? 0);
    const scene = merge(
      fresh && !needs.text ? w.scene : await this.capture(needs, signal),
      this.scenes.get(signal),
      needs,
    );
    this.scenes.set(signal, scene);
    return scene;
  }

  /** `keep`: remember the frame for the turn of `signal` (never watch mode's frames). */
  private async capture(needs: LookFor, signal: AbortSignal, keep = true): Promise<Scene> {
    const t0 = performance.now();
    const image = await this.deps.camera.capture(signal);
    if (keep && this.deps.preview !== undefined) {
      this.frames.set(signal, { bytes: image.bytes, source: image.source });
    }
    const t1 = performance.now();
    const frame = await decodeImage(image.bytes, image.source);
    throwIfAborted(signal);
    const t2 = performance.now();
    const objects = needs.objects ? (await this.deps.detector.detect(frame, signal)).detections : [];
    throwIfAborted(signal);
    const t3 = performance.now();
    const lines = needs.text ? (await this.deps.reader.read(frame, signal)).lines : undefined;
    throwIfAborted(signal);
    const t4 = performance.now();
    const scene: Scene = {
      source: image.source,
      width: frame.width,
      height: frame.height,
      objects,
      ...(lines === undefined ? {} : { lines, prices: scenePrices(lines, frame.width, frame.height) }),
    };
    this.deps.log.info(
      {
        objects: scene.objects.length,
        lines: scene.lines?.length,
        captureMs: Math.round(t1 - t0),
        decodeMs: Math.round(t2 - t1),
        detectMs: Math.round(t3 - t2),
        ocrMs: Math.round(t4 - t3),
      },
      'looked',
    );
    return scene;
  }
}

/** A follow-up question in the same turn adds to what the turn saw rather than forgetting it. */
function merge(now: Scene, before: Scene | undefined, needs: LookFor): Scene {
  if (before === undefined) return now;
  return {
    ...now,
    objects: needs.objects ? now.objects : before.objects,
    ...(needs.text || before.lines === undefined ? {} : { lines: before.lines, prices: before.prices ?? [] }),
  };
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new GlassesError('E_ABORTED', 'vision cancelled');
}
