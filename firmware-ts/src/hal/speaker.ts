/** The speaker port, and a speaker that records what it is given into a WAV file. */
import type { AudioChunk } from '../audio/chunk.js';
import { writeWav } from '../audio/wav.js';
import { GlassesError } from '../errors.js';

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

function aborted(name: string): GlassesError {
  return new GlassesError('E_ABORTED', `playback on ${name} stopped`, { details: { device: name } });
}

/** Appends everything played to one WAV file, written (atomically) on close. */
export class WavFileSpeaker implements Speaker {
  readonly name: string;
  private readonly parts: Int16Array[] = [];
  private format: { sampleRateHz: number; channels: number } | undefined;

  constructor(private readonly file: string) {
    this.name = `file:${file}`;
  }

  async play(audio: AsyncIterable<AudioChunk> | Iterable<AudioChunk>, signal: AbortSignal): Promise<void> {
    for await (const chunk of audio) {
      if (signal.aborted) throw aborted(this.name);
      this.format ??= { sampleRateHz: chunk.sampleRateHz, channels: chunk.channels };
      if (chunk.sampleRateHz !== this.format.sampleRateHz || chunk.channels !== this.format.channels) {
        throw new GlassesError(
          'E_AUDIO_FORMAT',
          `speaker ${this.file}: got ${chunk.sampleRateHz} Hz x${chunk.channels} after ${this.format.sampleRateHz} Hz x${this.format.channels}`,
          { details: { file: this.file } },
        );
      }
      this.parts.push(chunk.pcm.slice());
    }
  }

  /** Everything played so far, as one array. */
  played(): Int16Array {
    const total = this.parts.reduce((n, p) => n + p.length, 0);
    const out = new Int16Array(total);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  async close(): Promise<void> {
    const f = this.format ?? { sampleRateHz: 16_000, channels: 1 };
    await writeWav(this.file, this.played(), f.sampleRateHz, f.channels);
  }
}
