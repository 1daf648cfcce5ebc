/**
 * The composition root: config -> adapters -> runtime. The only file that builds real devices and
 * inference sessions; everything else takes them through its constructor.
 */
import { connectCloud, needsDevCloud, type CloudSide } from './compose/cloud.js';
import { loadDevCloud } from './compose/dev-cloud.js';
import { thresholdFor, type FrozenConfig } from './config.js';
import {
  openModelSet,
  trainedThreshold,
  verifierOf,
  type ModelKind,
  type ModelSet,
} from './inference/model-set.js';
import { createOnnxLoader } from './inference/onnx.js';
import type { InferenceModel } from './inference/model.js';
import { AlsaMic } from './hal/alsa-mic.js';
import { AplaySpeaker } from './hal/aplay-speaker.js';
import { RealClock, SimulatedClock, type Clock } from './hal/clock.js';
import { SysfsBattery } from './hal/battery.js';
import { CachedRecognizer } from './speech/cached-recognizer.js';
import { PocketsphinxRecognizer } from './speech/pocketsphinx.js';
import { EspeakSynthesizer, type Synthesizer } from './tts/espeak.js';
import { Voice } from './tts/voice.js';
import { Endpointer } from './vad/endpointer.js';
import {
  NoOrders,
  NoVision,
  OfflineAnswerSource,
  OrderEvents,
  type AnswerSource,
  type OrdersPort,
  type VisionPort,
} from './voice-loop/ports.js';
import { OfferDialogue } from './voice-loop/offer-dialogue.js';
import { Responder } from './voice-loop/responder.js';
import { Work } from './voice-loop/work.js';
import { VoiceLoopRunner, type RunEvent } from './voice-loop/runner.js';
import { WavFileMic, type Mic } from './hal/mic.js';
import type { Speaker } from './hal/speaker.js';
import { TimelineSpeaker } from './hal/timeline-speaker.js';
import type { GlassesError } from './errors.js';
import type { Log } from './log.js';
import { fromRoot } from './paths.js';
import { FileCamera, LedCamera, V4l2Camera, type Camera } from './hal/camera.js';
import { LogLed, SysfsLed } from './hal/led.js';
import { createDetector } from './vision/detector/detector.js';
import type { ObjectDetector } from './vision/detector/detector.js';
import { useBackend, type BackendChoice, type BackendName } from './vision/detector/tfjs.js';
import { loadDictionary, PpOcrReader, type TextReader } from './vision/ocr/ocr.js';
import { VisionService } from './vision/service.js';
import { SileroVad } from './vad/silero.js';
import { WakeDetector, type FrameScores, type VadGate } from './wake/detector.js';
import { WakeFeatures } from './wake/features.js';

export type { ModelSet };

/** Makes `choice` the process's TF.js backend (the vision models and the wake trainer run on it). */
export function useTfjsBackend(choice: BackendChoice, log: Log): Promise<BackendName> {
  return useBackend(choice, log);
}

/** onnxruntime for the models of `modelsDir` (the wake trainer checks the head it exported). */
export { createOnnxLoader };

/** The models a process has open, on onnxruntime, from config.models.dir. */
export function openModels(config: FrozenConfig): Promise<ModelSet> {
  // OCR runs while the wearer waits for an answer: it may take both cores (recognition is ~30 % faster
  // on two threads here); the wake models keep one thread each so listening never starves.
  const ocr = { intraOpThreads: config.vision.ocrThreads, memArena: false };
  const modelsDir = fromRoot(config.models.dir);
  return openModelSet(
    modelsDir,
    createOnnxLoader({ modelsDir, perKind: { 'ocr-det': ocr, 'ocr-rec': ocr } }),
  );
}

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
  /** One score threshold for every head, over the configured and trained ones (from the command line). */
  threshold?: number;
  onFrame?: (frame: FrameScores) => void;
  /** Wraps every loaded model, e.g. to time it in a benchmark. */
  wrapModel?: (model: InferenceModel, kind: ModelKind) => InferenceModel;
}

export async function createWakeEngine(
  config: FrozenConfig,
  log: Log,
  options: WakeEngineOptions = {},
  shared?: ModelSet,
): Promise<WakeEngine> {
  const models = shared ?? (await openModels(config));
  const get = async (name: string, kind: ModelKind): Promise<InferenceModel> => {
    const model = await models.get(name, kind);
    return options.wrapModel === undefined ? model : options.wrapModel(model, kind);
  };
  // Models shared with others are closed by their owner.
  const close = async (): Promise<void> => {
    if (shared === undefined) await models.close();
  };
  try {
    const wakeLog = log.child({ component: 'wake' });
    const features = new WakeFeatures({
      melspectrogram: await get('melspectrogram', 'wake-features'),
      embedding: await get('embedding', 'wake-features'),
    });
    const phrases = options.phrases ?? config.wake.phrases;
    const heads = [];
    for (const phrase of new Set(phrases)) {
      const verifier = verifierOf(models.manifest, phrase);
      // A threshold from the command line or config is the last stage's: the one the scores meet.
      const last =
        options.threshold ??
        thresholdFor(config.wake, phrase, verifier?.threshold ?? trainedThreshold(models.manifest, phrase));
      heads.push(
        verifier === undefined
          ? { phrase, model: await get(phrase, 'wake-head'), threshold: last }
          : {
              phrase,
              model: await get(phrase, 'wake-head'),
              threshold: trainedThreshold(models.manifest, phrase) ?? config.wake.scoreThreshold,
              verifier: { model: await get(verifier.name, 'wake-verifier'), threshold: last },
            },
      );
    }
    let vadGate: VadGate | undefined;
    if (options.vadGate ?? config.wake.vadGate.enabled) {
      vadGate = {
        vad: new SileroVad(await get('silero_vad', 'vad')),
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
    wakeLog.info({ phrases: detector.phrases, vadGate: vadGate !== undefined }, 'wake engine ready');
    return { detector, features, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The detector and the text reader, loaded once and shared by the loop and the CLI. */
export interface VisionEngine {
  detector: ObjectDetector;
  reader: TextReader;
  close(): Promise<void>;
}

export interface VisionEngineOptions {
  /** Overrides config.vision.detector. */
  detector?: 'nanodet' | 'centernet';
  /** Load only what a command needs. */
  load?: { detector: boolean; reader: boolean };
}

export async function createVisionEngine(
  config: FrozenConfig,
  log: Log,
  options: VisionEngineOptions = {},
  shared?: ModelSet,
): Promise<VisionEngine> {
  const models = shared ?? (await openModels(config));
  const load = options.load ?? { detector: true, reader: true };
  const visionLog = log.child({ component: 'vision' });
  let detector: ObjectDetector | undefined;
  try {
    const v = config.vision;
    // TF.js has one backend per process: chosen here, before any detector, never by one.
    const backend = load.detector ? await useBackend(v.backend, visionLog) : undefined;
    detector =
      backend !== undefined
        ? await createDetector({
            modelsDir: models.dir,
            manifest: models.manifest,
            model: options.detector ?? v.detector,
            backend,
            minScore: v.minScore,
            classMinScore: v.classMinScore,
            maxDetections: v.maxDetections,
            iouThreshold: v.iouThreshold,
            log: visionLog,
          })
        : undefined;
    const reader = load.reader
      ? new PpOcrReader({
          detector: await models.get('ocr_det', 'ocr-det'),
          recognizer: await models.get('ocr_rec', 'ocr-rec'),
          dictionary: await loadDictionary(models.dir, models.manifest),
        })
      : undefined;
    visionLog.info(
      { detector: detector?.name, backend: detector?.backend, ocr: reader !== undefined },
      'vision ready',
    );
    const notLoaded = (what: string): never => {
      throw new Error(`vision engine: the ${what} was not loaded`);
    };
    return {
      detector: detector ?? {
        name: 'none',
        backend: 'none',
        detect: () => notLoaded('detector'),
        release: () => Promise.resolve(),
      },
      reader: reader ?? { read: () => notLoaded('text reader'), release: () => Promise.resolve() },
      close: async () => {
        await detector?.release();
        if (shared === undefined) await models.close();
      },
    };
  } catch (err) {
    await detector?.release();
    if (shared === undefined) await models.close();
    throw err;
  }
}

/**
 * The camera: a V4L2 device (`/dev/video*`), or on a dev machine an image, a folder of images or a
 * video. The privacy LED is lit while it captures.
 */
export function createCamera(spec: string, config: FrozenConfig, clock: Clock, log: Log): Camera {
  const camLog = log.child({ component: 'camera' });
  const led = config.camera.ledPath === '' ? new LogLed(camLog) : new SysfsLed(config.camera.ledPath, camLog);
  const camera = spec.startsWith('/dev/')
    ? new V4l2Camera({ ...config.camera, device: spec })
    : new FileCamera({ path: spec, clock, captureTimeoutMs: config.camera.captureTimeoutMs });
  return new LedCamera(camera, led);
}

/** Runs on files keep time by their audio (a simulated clock); live runs by the real one. */
export function createClock(pace: 'live' | 'file' = 'live'): Clock {
  return pace === 'file' ? new SimulatedClock() : new RealClock();
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

export function createAlsaSpeaker(device: string, log: Log): AplaySpeaker {
  return new AplaySpeaker({ device, log: log.child({ component: 'speaker' }) });
}

export function createSpeaker(
  target: { device: string } | { file: string; clock: Clock; answersDir?: string },
  log: Log,
): Speaker {
  return 'file' in target
    ? new TimelineSpeaker(target.file, target.clock, target.answersDir)
    : createAlsaSpeaker(target.device, log);
}

/** The voice loop's command recogniser; the self-test tries this one. */
export function createRecognizer(log: Log): CachedRecognizer {
  return new CachedRecognizer(new PocketsphinxRecognizer({ log: log.child({ component: 'speech' }) }));
}

/** The voice loop's speech synthesiser; the self-test tries this one. */
export function createSynthesizer(config: FrozenConfig, log: Log): Synthesizer {
  return new EspeakSynthesizer({ ...config.tts, log: log.child({ component: 'tts' }) });
}

export interface VoiceLoopOptions {
  mic: Mic;
  speaker: Speaker;
  /** `file`: the clock is simulated and driven by the mic's audio; `live`: the real clock. */
  pace: 'live' | 'file';
  clock: Clock;
  onEvent: (event: RunEvent) => void;
  /** Replace the cloud's answer source and orders (tests). */
  answers?: AnswerSource;
  orders?: OrdersPort;
  /** The camera the vision intents look through; without one they say there is no camera. */
  camera?: Camera;
  /**
   * The cloud: `embedded` starts the development cloud in this process for an empty cloud URL (file
   * runs); `demo` is embedded with the orders always on the development cloud, never a configured
   * orders API (the scenario says "yes" to two offers); `configured` uses only what config names (an
   * empty URL leaves that side off). The outbox folder is resolved by the caller. Absent: no cloud.
   */
  cloud?: { mode: 'embedded' | 'demo' | 'configured'; outboxDir: string };
  /** Where the development cloud is loaded from (compose/dev-cloud.ts); tests point it where it is not. */
  devCloudEntry?: URL;
  /** Wall-clock date for "what time is it"; injected by tests. */
  now?: () => Date;
}

export interface VoiceLoop {
  runner: VoiceLoopRunner;
  voice: Voice;
  /** What is wrong from the start (a damaged outbox), also reported as an `error` run event. */
  problems: readonly GlassesError[];
  /** Closes the speaker and models; returns the answer files a file speaker wrote. */
  close(): Promise<string[]>;
}

export async function createVoiceLoop(
  config: FrozenConfig,
  log: Log,
  options: VoiceLoopOptions,
): Promise<VoiceLoop> {
  const cloudMode =
    options.cloud === undefined
      ? undefined
      : {
          embedded: options.cloud.mode !== 'configured',
          devOrders: options.cloud.mode === 'demo',
          outboxDir: options.cloud.outboxDir,
        };
  // Loaded first: a run that needs it and cannot have it fails before the models are opened.
  const devCloud =
    cloudMode !== undefined && needsDevCloud(config, cloudMode)
      ? await loadDevCloud(
          cloudMode.devOrders ? 'the demo' : 'a run with an empty cloud URL',
          options.devCloudEntry,
        )
      : undefined;
  const models = await openModels(config);
  let vision: VisionEngine | undefined;
  let cloud: CloudSide | undefined;
  const watching = new AbortController();
  try {
    const wake = await createWakeEngine(config, log, {}, models);
    vision = options.camera === undefined ? undefined : await createVisionEngine(config, log, {}, models);
    const service =
      options.camera === undefined || vision === undefined
        ? undefined
        : new VisionService({
            camera: options.camera,
            detector: vision.detector,
            reader: vision.reader,
            confidentScore: config.vision.confidentScore,
            log: log.child({ component: 'vision' }),
            clock: options.clock,
            watchIntervalMs: config.camera.watchIntervalMs,
            ...(config.cloud.sendImages
              ? {
                  preview: { maxSidePx: config.cloud.imageMaxSidePx, maxBytes: config.cloud.imageMaxBytes },
                }
              : {}),
          });
    const visionPort: VisionPort = service ?? new NoVision();
    if (service !== undefined && config.camera.watchIntervalMs > 0) {
      void service.watch(config.camera.watchIntervalMs, options.clock, watching.signal);
    }
    const clock = options.clock;
    // Made before both: the orders service emits into it, the runner reports what comes out.
    const orderEvents = new OrderEvents();
    cloud =
      cloudMode === undefined
        ? undefined
        : await connectCloud(config, {
            ...cloudMode,
            loopClock: clock,
            vision: service,
            onOrder: orderEvents.emit,
            now: options.now ?? (() => new Date()),
            log,
            ...(devCloud === undefined ? {} : { devCloud }),
          });
    const recognizer = createRecognizer(log);
    const endpointer = new Endpointer({
      vad: new SileroVad(await models.get('silero_vad', 'vad')),
      ...config.endpoint,
      // A pause that already closes a whole command ends the utterance sooner.
      isComplete: async (pcm, signal) => {
        const r = await recognizer.recognize(pcm, signal);
        return r.accepted && r.intent !== undefined;
      },
    });
    const work = new Work();
    const espeak = createSynthesizer(config, log);
    const voice = new Voice({
      // Counted as the loop's work: on files, audio is not fed while a sentence is being synthesised.
      synthesizer: { synthesize: (text, signal) => work.track(espeak.synthesize(text, signal)) },
      speaker: options.speaker,
      // Voice measures when the first audio leaves for the speaker: wall time, whatever the loop's clock.
      clock: new RealClock(),
      log: log.child({ component: 'tts' }),
    });
    const responder = new Responder({
      now: options.now ?? (() => new Date()),
      battery: new SysfsBattery(config.battery.powerSupplyDir),
      volume: voice,
      vision: visionPort,
      orders: options.orders ?? cloud?.orders ?? new NoOrders(),
      // The confirm window is the wearer's time, so it counts on the loop's clock.
      offers: new OfferDialogue({
        clock,
        confirmWindowMs: config.orders.confirmWindowMs,
        log: log.child({ component: 'orders' }),
      }),
    });
    const phraseWords: Record<string, string> = {};
    for (const p of wake.detector.phrases) {
      const words = models.phraseWords(p);
      if (words !== undefined) phraseWords[p] = words;
    }
    const runner = new VoiceLoopRunner({
      mic: options.mic,
      clock,
      pace: options.pace,
      detector: wake.detector,
      phraseWords,
      endpointer,
      silences: { shortMs: config.endpoint.shortSilenceMs, longMs: config.endpoint.longSilenceMs },
      recognizer,
      voice,
      responder,
      answers: options.answers ?? cloud?.answers ?? new OfflineAnswerSource(),
      timings: config.loop,
      onEvent: options.onEvent,
      log: log.child({ component: 'loop' }),
      work,
      orderEvents,
    });
    const connected = cloud;
    const problems = cloud?.damage === undefined ? [] : [cloud.damage];
    for (const p of problems) options.onEvent({ type: 'error', atMs: 0, code: p.code, message: p.message });
    return {
      runner,
      voice,
      problems,
      close: async () => {
        watching.abort();
        const written = await options.speaker.close();
        await connected?.close();
        await vision?.close();
        await models.close();
        return Array.isArray(written) ? written.filter((f): f is string => typeof f === 'string') : [];
      },
    };
  } catch (err) {
    watching.abort();
    await cloud?.close();
    await vision?.close();
    await models.close();
    throw err;
  }
}
