/**
 * openWakeWord's shared audio features, streamed: each 80 ms frame gives 8 mel frames and one 96-d
 * speech embedding. Computed once per frame and read by every wake head (and later command heads).
 */
import { runSingle, type InferenceModel } from '../inference/model.js';
import { seededRandom } from '../util/random.js';

/** openWakeWord: 80 ms frames at 16 kHz. */
export const FRAME_SAMPLES = 1280;
export const FRAME_MS = 80;
/** openWakeWord: the melspectrogram sees 3 hops (160 samples each) of the previous frame as context. */
export const MEL_CONTEXT_SAMPLES = 480;
export const MEL_BINS = 32;
export const MEL_FRAMES_PER_FRAME = 8;
/** openWakeWord: 76 mel frames (775 ms) per embedding window. */
export const EMBEDDING_WINDOW_MEL_FRAMES = 76;
export const EMBEDDING_DIM = 96;
/** Embeddings kept: 10 s, more than any head's window. */
const MAX_EMBEDDINGS = 125;
/** openWakeWord seeds its buffers with 4 s of random noise in [-1000, 1000) so the first heads see speech-free history. */
const SEED_NOISE_FRAMES = 50;
const SEED_NOISE_AMPLITUDE = 1000;

export interface WakeFeatureModels {
  melspectrogram: InferenceModel;
  embedding: InferenceModel;
}

export class WakeFeatures {
  private readonly melInput = new Float32Array(MEL_CONTEXT_SAMPLES + FRAME_SAMPLES);
  /** The last 76 mel frames, oldest first. */
  private readonly mel = new Float32Array(EMBEDDING_WINDOW_MEL_FRAMES * MEL_BINS);
  private readonly embeddings: Float32Array[] = [];
  private seed: { mel: Float32Array; melInput: Float32Array; embeddings: Float32Array[] } | undefined;
  /** Frames pushed since the last reset, seeding excluded. */
  framesSeen = 0;

  constructor(private readonly models: WakeFeatureModels) {
    this.mel.fill(1); // openWakeWord starts its mel buffer at ones
  }

  /** Fills the history with seeded noise, as openWakeWord does; call once before use. */
  async warmUp(): Promise<void> {
    const random = seededRandom(0x5eed);
    const frame = new Int16Array(FRAME_SAMPLES);
    for (let f = 0; f < SEED_NOISE_FRAMES; f++) {
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        frame[i] = Math.floor(random() * 2 * SEED_NOISE_AMPLITUDE) - SEED_NOISE_AMPLITUDE;
      }
      await this.pushFrame(frame);
    }
    this.seed = {
      mel: this.mel.slice(),
      melInput: this.melInput.slice(),
      embeddings: this.embeddings.slice(),
    };
    this.framesSeen = 0;
  }

  /** Back to the warmed-up state, for a new stream. */
  reset(): void {
    if (this.seed === undefined) throw new Error('WakeFeatures.reset() before warmUp()');
    this.mel.set(this.seed.mel);
    this.melInput.set(this.seed.melInput);
    this.embeddings.length = 0;
    this.embeddings.push(...this.seed.embeddings);
    this.framesSeen = 0;
  }

  /** Takes exactly one 80 ms frame of 16 kHz int16 audio. */
  async pushFrame(frame: Int16Array): Promise<void> {
    if (frame.length !== FRAME_SAMPLES)
      throw new Error(`wake features take ${FRAME_SAMPLES} samples, got ${frame.length}`);
    const input = this.melInput;
    input.copyWithin(0, FRAME_SAMPLES); // the last 480 samples of the previous frame become context
    for (let i = 0; i < FRAME_SAMPLES; i++) input[MEL_CONTEXT_SAMPLES + i] = frame[i] ?? 0;

    const melOut = await runSingle(this.models.melspectrogram, { data: input, dims: [1, input.length] });
    if (melOut.length !== MEL_FRAMES_PER_FRAME * MEL_BINS) {
      throw new Error(
        `melspectrogram gave ${melOut.length / MEL_BINS} frames, expected ${MEL_FRAMES_PER_FRAME}`,
      );
    }
    this.mel.copyWithin(0, MEL_FRAMES_PER_FRAME * MEL_BINS);
    const tail = (EMBEDDING_WINDOW_MEL_FRAMES - MEL_FRAMES_PER_FRAME) * MEL_BINS;
    // openWakeWord: scale to the range the embedding model was trained on.
    for (let i = 0; i < melOut.length; i++) this.mel[tail + i] = (melOut[i] ?? 0) / 10 + 2;

    const emb = await runSingle(this.models.embedding, {
      data: this.mel,
      dims: [1, EMBEDDING_WINDOW_MEL_FRAMES, MEL_BINS, 1],
    });
    this.embeddings.push(Float32Array.from(emb.subarray(0, EMBEDDING_DIM)));
    if (this.embeddings.length > MAX_EMBEDDINGS) this.embeddings.shift();
    this.framesSeen++;
  }

  /** The last `count` embeddings, oldest first, as one [count x 96] array. */
  window(count: number): Float32Array {
    if (count > this.embeddings.length) {
      throw new Error(`asked for ${count} embeddings, ${this.embeddings.length} kept`);
    }
    const out = new Float32Array(count * EMBEDDING_DIM);
    const start = this.embeddings.length - count;
    for (let i = 0; i < count; i++)
      out.set(this.embeddings[start + i] ?? new Float32Array(EMBEDDING_DIM), i * EMBEDDING_DIM);
    return out;
  }
}
