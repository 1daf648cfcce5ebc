/** The speaker port; its adapters are aplay-speaker.ts (ALSA) and timeline-speaker.ts (files). */
import type { AudioChunk } from '../audio/chunk.js';

export interface Speaker {
  readonly name: string;
  /**
   * Plays the chunks in order and resolves when the last has been played. When `signal` aborts,
   * playback stops at once and the promise rejects with E_ABORTED.
   */
  play(audio: AsyncIterable<AudioChunk> | Iterable<AudioChunk>, signal: AbortSignal): Promise<void>;
  /** Releases the device; file speakers write their file(s) and return the paths written. */
  close(): Promise<unknown>;
}
