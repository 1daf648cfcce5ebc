/**
 * Wake word detection: shared features in, any number of wake heads over the last embeddings,
 * per-phrase thresholds, a refractory period, and an optional Silero VAD gate.
 *
 * A head may have a second stage, a verifier (wake-train/train/verifier.ts): the head then runs at
 * a threshold that finds nearly every wearer, and on the frames it passes the verifier scores the
 * same window; the frame's score is the verifier's there and 0 elsewhere, and the rising-edge and
 * refractory rule applies to it. The verifier's cost is per frame the head passes, not per frame.
 *
 * Time here is audio time (samples pushed), not wall time: a file replayed as fast as possible
 * detects at the same `atMs` as the same audio heard live.
 */
import { Framer } from '../audio/framer.js';
import { MODEL_SAMPLE_RATE_HZ, type AudioChunk } from '../audio/chunk.js';
import { GlassesError } from '../errors.js';
import { runSingle, type InferenceModel } from '../inference/model.js';
import type { Log } from '../log.js';
import type { VoiceActivityDetector } from '../vad/vad.js';
import type { WakeWordDetector } from '../voice-loop/ports.js';
import { EMBEDDING_DIM, FRAME_MS, FRAME_SAMPLES, type WakeFeatures } from './features.js';

/** openWakeWord heads read the last 16 embeddings (1.28 s). */
export const HEAD_WINDOW_EMBEDDINGS = 16;
/** openWakeWord zeroes the first 5 predictions while its buffers fill. */
export const WARMUP_FRAMES = 5;

export interface WakeHead {
  phrase: string;
  model: InferenceModel;
  /** Score in 0..1 at which the head fires (with a verifier: at which the verifier is asked). */
  threshold: number;
  verifier?: { model: InferenceModel; threshold: number };
}

export interface VadGate {
  vad: VoiceActivityDetector;
  /** Speech probability that counts as speech. */
  threshold: number;
  /** A detection stands only if speech was heard within this many ms before it. */
  lookbackMs: number;
}

export interface Detection {
  phrase: string;
  /** Score of the frame that fired. */
  score: number;
  /** End of the frame that fired, from the start of the stream. */
  atMs: number;
}

export interface FrameScores {
  /** End of the frame, from the start of the stream. */
  atMs: number;
  /**
   * Each phrase's score, compared with its threshold (`thresholds`): the head's, or with a verifier
   * the verifier's where the head passed the frame and 0 elsewhere; 0 when the VAD gate held it back.
   */
  scores: Record<string, number>;
  /** The heads' own scores, for phrases with a verifier. */
  firstStage?: Record<string, number>;
  /** Highest speech probability in this frame, when the gate is on. */
  vad?: number;
}

export interface WakeDetectorOptions {
  features: WakeFeatures;
  heads: readonly WakeHead[];
  refractoryMs: number;
  vadGate?: VadGate;
  log: Log;
  /** Sees every frame's scores: for benchmarks, evaluation and debugging. */
  onFrame?: (frame: FrameScores) => void;
}

interface HeadState {
  head: WakeHead;
  wasAbove: boolean;
  refractoryUntilMs: number;
}

export class WakeDetector implements WakeWordDetector {
  private readonly framer = new Framer(FRAME_SAMPLES);
  private readonly heads: HeadState[];
  private readonly log: Log;
  private frameIndex = 0;
  /** Highest VAD probability of each recent frame, newest last. */
  private readonly vadHistory: number[] = [];

  constructor(private readonly options: WakeDetectorOptions) {
    if (options.heads.length === 0) throw new Error('WakeDetector needs at least one head');
    this.heads = options.heads.map((head) => ({ head, wasAbove: false, refractoryUntilMs: -Infinity }));
    this.log = options.log;
  }

  get phrases(): string[] {
    return this.heads.map((h) => h.head.phrase);
  }

  /** The score at which each phrase fires: its verifier's threshold where it has one. */
  get thresholds(): Record<string, number> {
    return Object.fromEntries(
      this.heads.map((h) => [h.head.phrase, h.head.verifier?.threshold ?? h.head.threshold]),
    );
  }

  /** Feeds 16 kHz mono audio of any chunk size; returns the detections it completes. */
  async push(chunk: AudioChunk): Promise<Detection[]> {
    if (chunk.sampleRateHz !== MODEL_SAMPLE_RATE_HZ || chunk.channels !== 1) {
      throw new GlassesError(
        'E_AUDIO_FORMAT',
        `wake detector takes 16000 Hz mono audio, got ${chunk.sampleRateHz} Hz with ${chunk.channels} channels`,
        { details: { sampleRateHz: chunk.sampleRateHz, channels: chunk.channels } },
      );
    }
    const detections: Detection[] = [];
    for (const frame of this.framer.push(chunk.pcm)) detections.push(...(await this.processFrame(frame)));
    return detections;
  }

  /** Starts a new stream: time back to zero, history back to the seeded state. */
  reset(): void {
    this.framer.reset();
    this.options.features.reset();
    this.options.vadGate?.vad.reset();
    this.frameIndex = 0;
    this.vadHistory.length = 0;
    for (const h of this.heads) {
      h.wasAbove = false;
      h.refractoryUntilMs = -Infinity;
    }
  }

  private async processFrame(frame: Int16Array): Promise<Detection[]> {
    const { features, vadGate } = this.options;
    this.frameIndex++;
    const atMs = this.frameIndex * FRAME_MS;
    await features.pushFrame(frame);

    let vad: number | undefined;
    let gated = false;
    if (vadGate !== undefined) {
      const probs = await vadGate.vad.push(frame);
      vad = probs.length > 0 ? Math.max(...probs) : (this.vadHistory[this.vadHistory.length - 1] ?? 0);
      this.vadHistory.push(vad);
      const keep = Math.max(1, Math.ceil(vadGate.lookbackMs / FRAME_MS));
      while (this.vadHistory.length > keep) this.vadHistory.shift();
      // The head fires after the phrase ends, so the speech that matters is in the recent past.
      gated = Math.max(...this.vadHistory) < vadGate.threshold;
    }

    const scores: Record<string, number> = {};
    let firstStage: Record<string, number> | undefined;
    const detections: Detection[] = [];
    const warm = this.frameIndex > WARMUP_FRAMES;
    // Heads are skipped while the gate is shut: on the board that is most of the time.
    const window = warm && !gated ? features.window(HEAD_WINDOW_EMBEDDINGS) : undefined;
    for (const state of this.heads) {
      const { verifier } = state.head;
      const headScore = window === undefined ? 0 : await scoreWindow(state.head.model, window);
      let score = headScore;
      if (verifier !== undefined) {
        (firstStage ??= {})[state.head.phrase] = headScore;
        score =
          window !== undefined && headScore >= state.head.threshold
            ? await scoreWindow(verifier.model, window)
            : 0;
      }
      scores[state.head.phrase] = score;
      const above = score >= (verifier?.threshold ?? state.head.threshold);
      // Fire on the rising edge only, and not again within the refractory period.
      if (above && !state.wasAbove && atMs >= state.refractoryUntilMs) {
        detections.push({ phrase: state.head.phrase, score, atMs });
        state.refractoryUntilMs = atMs + this.options.refractoryMs;
        this.log.debug({ phrase: state.head.phrase, score, atMs }, 'wake phrase detected');
      }
      state.wasAbove = above;
    }
    this.options.onFrame?.({
      atMs,
      scores,
      ...(firstStage === undefined ? {} : { firstStage }),
      ...(vad === undefined ? {} : { vad }),
    });
    return detections;
  }
}

/** A head's (or verifier's) score for one 16 x 96 window. */
export async function scoreWindow(model: InferenceModel, data: Float32Array): Promise<number> {
  return (await runSingle(model, { data, dims: [1, HEAD_WINDOW_EMBEDDINGS, EMBEDDING_DIM] }))[0] ?? 0;
}
