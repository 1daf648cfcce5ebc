/**
 * The self-test's rig on real parts: the models, engines and devices come from the composition root
 * (main.ts), exactly as `glasses run` builds them, so the self-test exercises what the board runs.
 */
import { promises as fs } from 'node:fs';
import { MODEL_SAMPLE_RATE_HZ, splitChunks, type AudioChunk } from '../audio/chunk.js';
import { readWavAs16kMono } from '../audio/wav.js';
import { pixelBox } from '../commands/images.js';
import type { FrozenConfig } from '../config.js';
import { GlassesError, isGlassesError } from '../errors.js';
import { readImageFile } from '../hal/camera.js';
import type { Log } from '../log.js';
import {
  createAlsaMic,
  createAlsaSpeaker,
  createCamera,
  createClock,
  createRecognizer,
  createSynthesizer,
  createVisionEngine,
  createWakeEngine,
  openModels,
  type ModelSet,
  type VisionEngine,
} from '../main.js';
import { loadManifest, verifiedModelPath } from '../models/manifest.js';
import { fromRoot } from '../paths.js';
import { decodeImage, toOriginalBox } from '../vision/frame.js';
import { loadDictionary } from '../vision/ocr/ocr.js';
import type { CachedRecognizer } from '../speech/cached-recognizer.js';
import type { Recognition } from '../speech/recognizer.js';
import type { CameraFrame, CapturedAudio, ObjectsRun, SelftestRig, TextRun, WakeRun } from './selftest.js';

/** How long a device may take to open before the check gives up on it. */
const OPEN_DEADLINE_MS = 5000;
/**
 * A sentence takes espeak-ng ~0.1-0.6 s, a command pocketsphinx 0.3-3 s (its first call reads the
 * dictionary; the slower figures on a busy 2-core machine): a tool that hangs must not hang the
 * self-test, and a slow board (or an emulated one) must not fail for being slow.
 */
const SPEECH_DEADLINE_MS = 30_000;
const WAKE_CHUNK_SAMPLES = 1280;

export class BoardRig implements SelftestRig {
  private models: Promise<ModelSet> | undefined;
  private vision: Promise<VisionEngine> | undefined;
  private recognizer: CachedRecognizer | undefined;

  constructor(
    private readonly config: FrozenConfig,
    private readonly log: Log,
  ) {}

  async verifyModels(): Promise<{ files: number; bytes: number }> {
    const dir = fromRoot(this.config.models.dir);
    const manifest = await loadManifest(dir);
    let bytes = 0;
    const bad: GlassesError[] = [];
    // Every file, not only up to the first bad one: a reflash fixes them all at once.
    for (const entry of manifest.models) {
      try {
        await verifiedModelPath(dir, entry);
        bytes += entry.bytes;
      } catch (err) {
        if (!isGlassesError(err)) throw err;
        bad.push(err);
      }
    }
    const [first, ...more] = bad;
    if (first === undefined) return { files: manifest.models.length, bytes };
    if (more.length === 0) throw first;
    const names = more.map((e) => String(e.details.model)).join(', ');
    throw new GlassesError(first.code, `${first.message}; and ${more.length} more: ${names}`, {
      details: first.details,
    });
  }

  async loadModels(): Promise<string[]> {
    const models = await this.openModels();
    const loaded: string[] = [];
    for (const entry of models.manifest.models) {
      switch (entry.kind) {
        case 'wake-features':
        case 'wake-head':
        case 'wake-verifier':
        case 'vad':
        case 'ocr-det':
        case 'ocr-rec':
          await models.get(entry.name, entry.kind);
          break;
        case 'detector': {
          if (entry.name !== 'centernet' && entry.name !== 'nanodet') {
            throw new GlassesError(
              'E_MODEL_UNKNOWN',
              `detector ${entry.name} in the manifest has no decoder`,
              {
                details: { model: entry.name },
              },
            );
          }
          if (entry.name === this.config.vision.detector) {
            await this.visionEngine();
          } else {
            const other = await createVisionEngine(
              this.config,
              this.log,
              { detector: entry.name, load: { detector: true, reader: false } },
              models,
            );
            await other.close();
          }
          break;
        }
        case 'detector-weights':
          // Loaded with its graph (the detector entry); listed so the count matches the manifest.
          break;
        case 'ocr-dict':
          await loadDictionary(models.dir, models.manifest);
          break;
      }
      loaded.push(entry.name);
    }
    return loaded;
  }

  async wake(file: string): Promise<WakeRun> {
    const peaks: Record<string, number> = {};
    const engine = await createWakeEngine(
      this.config,
      this.log,
      {
        onFrame: (frame) => {
          for (const [phrase, score] of Object.entries(frame.scores)) {
            peaks[phrase] = Math.max(peaks[phrase] ?? 0, score);
          }
        },
      },
      await this.openModels(),
    );
    try {
      const { thresholds } = engine.detector;
      const audio = await readWavAs16kMono(file);
      const detections: WakeRun['detections'] = [];
      for (const chunk of splitChunks(audio.pcm, WAKE_CHUNK_SAMPLES)) {
        for (const d of await engine.detector.push(chunk)) {
          detections.push({ phrase: d.phrase, atMs: d.atMs, score: d.score });
        }
      }
      return { detections, peaks, thresholds };
    } finally {
      await engine.close();
    }
  }

  async detect(file: string): Promise<ObjectsRun> {
    const engine = await this.visionEngine();
    const frame = await decodeImage(await readImageFile(file), file);
    const { detections } = await engine.detector.detect(frame);
    return {
      detector: engine.detector.name,
      backend: engine.detector.backend,
      objects: detections.map((d) => ({
        label: d.label,
        score: d.score,
        box: pixelBox(toOriginalBox(d.box, frame)),
      })),
    };
  }

  async read(file: string): Promise<TextRun> {
    const engine = await this.visionEngine();
    const frame = await decodeImage(await readImageFile(file), file);
    const { lines } = await engine.reader.read(frame);
    return {
      lines: lines.map((l) => ({ text: l.text, score: l.score, box: pixelBox(toOriginalBox(l.box, frame)) })),
    };
  }

  async listen(device: string, ms: number): Promise<CapturedAudio> {
    const wanted = Math.ceil((ms * MODEL_SAMPLE_RATE_HZ) / 1000);
    const deadline = AbortSignal.timeout(OPEN_DEADLINE_MS + ms);
    const done = new AbortController();
    let samples = 0;
    let peak = 0;
    try {
      const mic = createAlsaMic(device, this.log);
      for await (const chunk of mic.chunks(AbortSignal.any([deadline, done.signal]))) {
        for (const s of chunk.pcm) peak = Math.max(peak, Math.abs(s));
        samples += chunk.pcm.length;
        if (samples >= wanted) break;
      }
    } finally {
      done.abort();
    }
    if (deadline.aborted && samples === 0) {
      throw new GlassesError(
        'E_MIC_FAILED',
        `microphone ${device}: no audio within ${OPEN_DEADLINE_MS + ms} ms`,
        {
          details: { device },
        },
      );
    }
    return { samples, peak: peak / 32768 };
  }

  async play(device: string, ms: number): Promise<void> {
    const speaker = createAlsaSpeaker(device, this.log);
    await speaker.probe(MODEL_SAMPLE_RATE_HZ, AbortSignal.timeout(OPEN_DEADLINE_MS));
    const pcm = new Int16Array(Math.round((ms * MODEL_SAMPLE_RATE_HZ) / 1000));
    try {
      await speaker.play(
        [{ pcm, sampleRateHz: MODEL_SAMPLE_RATE_HZ, channels: 1, tsMs: 0 }],
        AbortSignal.timeout(OPEN_DEADLINE_MS + ms),
      );
    } catch (err) {
      if (isGlassesError(err, 'E_ABORTED')) {
        throw new GlassesError(
          'E_SPEAKER_FAILED',
          `speaker ${device}: ${ms} ms of audio not played within ${OPEN_DEADLINE_MS + ms} ms`,
          { details: { device }, cause: err },
        );
      }
      throw err;
    } finally {
      await speaker.close();
    }
  }

  async hasCamera(device: string): Promise<boolean> {
    try {
      await fs.stat(device);
      return true;
    } catch {
      return false;
    }
  }

  async capture(device: string): Promise<CameraFrame> {
    const camera = createCamera(device, this.config, createClock('live'), this.log);
    const image = await camera.capture(
      AbortSignal.timeout(OPEN_DEADLINE_MS + this.config.camera.captureTimeoutMs),
    );
    const frame = await decodeImage(image.bytes, image.source);
    return { width: frame.originalWidth, height: frame.originalHeight, bytes: image.bytes.length };
  }

  speak(text: string): Promise<AudioChunk> {
    return createSynthesizer(this.config, this.log).synthesize(text, AbortSignal.timeout(SPEECH_DEADLINE_MS));
  }

  recognize(pcm: Int16Array): Promise<Recognition> {
    this.recognizer ??= createRecognizer(this.log);
    return this.recognizer.recognize(pcm, AbortSignal.timeout(SPEECH_DEADLINE_MS));
  }

  async close(): Promise<void> {
    await this.recognizer?.close();
    this.recognizer = undefined;
    const vision = this.vision;
    this.vision = undefined;
    if (vision !== undefined)
      await vision.then(
        (v) => v.close(),
        () => undefined,
      );
    const models = this.models;
    this.models = undefined;
    if (models !== undefined)
      await models.then(
        (m) => m.close(),
        () => undefined,
      );
  }

  private openModels(): Promise<ModelSet> {
    this.models ??= openModels(this.config);
    return this.models;
  }

  /** The configured detector and the text reader, loaded once. */
  private visionEngine(): Promise<VisionEngine> {
    this.vision ??= this.openModels().then((models) => createVisionEngine(this.config, this.log, {}, models));
    return this.vision;
  }
}
