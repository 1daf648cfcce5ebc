/**
 * The composition root: config -> adapters -> runtime. The only file that builds real devices and
 * inference sessions; everything else takes them through its constructor.
 */
import { thresholdFor, type FrozenConfig } from './config.js';
import { createOnnxLoader } from './inference/onnx.js';
import type { InferenceModel } from './inference/model.js';
import { AlsaMic } from './hal/alsa-mic.js';
import { AplaySpeaker } from './hal/aplay-speaker.js';
import { RealClock, type Clock } from './hal/clock.js';
import { WavFileMic, type Mic } from './hal/mic.js';
import { WavFileSpeaker, type Speaker } from './hal/speaker.js';
import type { Log } from './log.js';
import { findModel, loadManifest } from './models/manifest.js';
import { fromRoot } from './paths.js';
import { SileroVad } from './vad/silero.js';
import { WakeDetector, type FrameScores, type VadGate } from './wake/detector.js';
import { WakeFeatures } from './wake/features.js';

export interface WakeEngine {
  detector: WakeDetector;
  features: WakeFeatures;
  close(): Promise<void>;
}

export interface WakeEngineOptions {
  /** Overrides config.wake.phrases (from the command line). */
  phrases?: readonly string[];
  /** Overrides config.wake.vadGate.enabled. */
  vadGate?: boolean;
  onFrame?: (frame: FrameScores) => void;
  /** Wraps every loaded model, e.g. to time it in a benchmark. */
  wrapModel?: (model: InferenceModel, kind: 'wake-features' | 'wake-head' | 'vad') => InferenceModel;
}

export async function createWakeEngine(
  config: FrozenConfig,
  log: Log,
  options: WakeEngineOptions = {},
): Promise<WakeEngine> {
  const modelsDir = fromRoot(config.models.dir);
  const manifest = await loadManifest(modelsDir);
  const load = createOnnxLoader({ modelsDir });
  const loaded: InferenceModel[] = [];
  const track = async (
    name: string,
    kind: 'wake-features' | 'wake-head' | 'vad',
  ): Promise<InferenceModel> => {
    const model = await load(findModel(manifest, name, kind));
    loaded.push(model);
    return options.wrapModel === undefined ? model : options.wrapModel(model, kind);
  };
  const close = async (): Promise<void> => {
    await Promise.all(loaded.map((m) => m.release()));
  };
  try {
    const wakeLog = log.child({ component: 'wake' });
    const features = new WakeFeatures({
      melspectrogram: await track('melspectrogram', 'wake-features'),
      embedding: await track('embedding', 'wake-features'),
    });
    const phrases = options.phrases ?? config.wake.phrases;
    const heads = [];
    for (const phrase of new Set(phrases)) {
      heads.push({
        phrase,
        model: await track(phrase, 'wake-head'),
        threshold: thresholdFor(config.wake, phrase),
      });
    }
    let vadGate: VadGate | undefined;
    if (options.vadGate ?? config.wake.vadGate.enabled) {
      vadGate = {
        vad: new SileroVad(await track('silero_vad', 'vad')),
        threshold: config.wake.vadGate.threshold,
        lookbackMs: config.wake.vadGate.lookbackMs,
      };
    }
    await features.warmUp();
    const detector = new WakeDetector({
      features,
      heads,
      refractoryMs: config.wake.refractoryMs,
      log: wakeLog,
      ...(vadGate === undefined ? {} : { vadGate }),
      ...(options.onFrame === undefined ? {} : { onFrame: options.onFrame }),
    });
    wakeLog.info(
      { phrases: detector.phrases, vadGate: vadGate !== undefined, models: loaded.length },
      'wake engine ready',
    );
    return { detector, features, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export function createClock(): Clock {
  return new RealClock();
}

export function createAlsaMic(device: string, log: Log): Mic {
  return new AlsaMic({ device, log: log.child({ component: 'mic' }) });
}

export function createFileMic(
  file: string,
  pace: 'realtime' | 'fast',
  clock: Clock,
  chunkSamples?: number,
): Mic {
  return new WavFileMic({ file, pace, clock, ...(chunkSamples === undefined ? {} : { chunkSamples }) });
}

export function createSpeaker(target: { device: string } | { file: string }, log: Log): Speaker {
  return 'file' in target
    ? new WavFileSpeaker(target.file)
    : new AplaySpeaker({ device: target.device, log: log.child({ component: 'speaker' }) });
}
