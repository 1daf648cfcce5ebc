/**
 * File pace: the loop's clock is the mic file's audio, and every computation finishes before the next
 * chunk, so a run on a file gives the same timeline every time however fast the machine.
 */
import type { AudioChunk } from '../audio/chunk.js';
import type { Clock } from '../hal/clock.js';
import { FRAME_MS, FRAME_SAMPLES } from '../wake/features.js';
import type { Work } from './work.js';

/** Silence fed after a file ends, so timers and the follow-up window run out: at most this long. */
export const DRAIN_AUDIO_MS = 30_000;

export class FilePace {
  constructor(
    /** Simulated on a file run: `advance` moves it; a clock without one is left alone. */
    private readonly clock: Clock,
    private readonly work: Work,
  ) {}

  /** The clock moves with the audio fed. */
  async advance(ms: number): Promise<void> {
    await (this.clock as { advance?: (ms: number) => Promise<void> }).advance?.(ms);
  }

  /**
   * Waits until no computation is running: each remaining effect is waiting for clock time. Not once
   * `stopped`: what is running has been aborted and is not worth waiting for.
   */
  async settle(stopped: () => boolean): Promise<void> {
    for (let quiet = 0; quiet < 3 && !stopped();) {
      await new Promise((r) => setImmediate(r));
      quiet = this.work.busy ? 0 : quiet + 1;
    }
  }

  /**
   * After the file: feeds silence while `needed` (the loop has not finished what it started), for at
   * most DRAIN_AUDIO_MS.
   */
  async drain(
    feed: (chunk: AudioChunk) => Promise<void>,
    needed: () => boolean,
    atMs: () => number,
  ): Promise<void> {
    const silence = new Int16Array(FRAME_SAMPLES);
    for (let fed = 0; needed() && fed < DRAIN_AUDIO_MS; fed += FRAME_MS) {
      await feed({ pcm: silence, sampleRateHz: 16000, channels: 1, tsMs: atMs() });
    }
  }
}
