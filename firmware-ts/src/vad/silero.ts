/**
 * Silero VAD (v4, with h/c state) streamed over 16 kHz audio: speech probability per 32 ms window.
 * Audio of any chunk size goes in; windows are cut internally, so results do not depend on chunking.
 */
import { Framer } from '../audio/framer.js';
import type { InferenceModel } from '../inference/model.js';
import type { VoiceActivityDetector } from './vad.js';

/** Silero v4 at 16 kHz takes windows of 512, 1024 or 1536 samples; 512 (32 ms) reacts fastest. */
export const VAD_WINDOW_SAMPLES = 512;
const STATE_SIZE = 2 * 1 * 64;
const SAMPLE_RATE = new BigInt64Array([16000n]);

export class SileroVad implements VoiceActivityDetector {
  readonly windowSamples = VAD_WINDOW_SAMPLES;
  private readonly framer = new Framer(VAD_WINDOW_SAMPLES);
  private h = new Float32Array(STATE_SIZE);
  private c = new Float32Array(STATE_SIZE);
  private readonly input = new Float32Array(VAD_WINDOW_SAMPLES);

  constructor(private readonly model: InferenceModel) {}

  /** Speech probabilities of the windows that `pcm` completes, in order. */
  async push(pcm: Int16Array): Promise<number[]> {
    const probs: number[] = [];
    for (const window of this.framer.push(pcm)) {
      for (let i = 0; i < VAD_WINDOW_SAMPLES; i++) this.input[i] = (window[i] ?? 0) / 32768;
      const out = await this.model.run({
        input: { data: this.input, dims: [1, VAD_WINDOW_SAMPLES] },
        sr: { data: SAMPLE_RATE, dims: [] },
        h: { data: this.h, dims: [2, 1, 64] },
        c: { data: this.c, dims: [2, 1, 64] },
      });
      const p = out.output?.data[0];
      const hn = out.hn?.data;
      const cn = out.cn?.data;
      if (p === undefined || hn === undefined || cn === undefined) {
        throw new Error(`model ${this.model.name} did not return output, hn and cn`);
      }
      this.h = Float32Array.from(hn);
      this.c = Float32Array.from(cn);
      probs.push(p);
    }
    return probs;
  }

  reset(): void {
    this.framer.reset();
    this.h.fill(0);
    this.c.fill(0);
  }
}
