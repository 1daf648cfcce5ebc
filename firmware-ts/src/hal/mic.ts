/** The microphone port, and a microphone that replays a WAV file. */
import { rechunk, type AudioChunk } from '../audio/chunk.js';
import { streamWavAs16kMono } from '../audio/wav.js';
import type { Clock } from './clock.js';

export interface Mic {
  /** Names the device or file in logs and errors. */
  readonly name: string;
  /**
   * 16 kHz mono chunks until the source ends or `signal` aborts (then the iteration just ends).
   * Chunk sizes are the source's own; consumers must not assume them.
   */
  chunks(signal: AbortSignal): AsyncIterable<AudioChunk>;
}

export interface WavFileMicOptions {
  file: string;
  /** `realtime` delivers each chunk when it would have been heard; `fast` as fast as it is read. */
  pace: 'realtime' | 'fast';
  /** Samples per chunk: 1024 by default, like a typical ALSA period, not the wake frame size. */
  chunkSamples?: number;
  clock: Clock;
}

export class WavFileMic implements Mic {
  readonly name: string;

  constructor(private readonly options: WavFileMicOptions) {
    this.name = `file:${options.file}`;
  }

  async *chunks(signal: AbortSignal): AsyncIterable<AudioChunk> {
    const { clock, pace } = this.options;
    const start = clock.now();
    // The file is read a second at a time as it is played, so an hour of audio takes no more memory
    // than a second of it.
    const pieces = streamWavAs16kMono(this.options.file, signal);
    for await (const chunk of rechunk(pieces, this.options.chunkSamples ?? 1024)) {
      if (signal.aborted) return;
      if (pace === 'realtime') {
        // A real mic hands over a chunk once its last sample has been captured.
        const due = start + chunk.tsMs + (chunk.pcm.length / chunk.sampleRateHz) * 1000;
        try {
          await clock.sleep(due - clock.now(), signal);
        } catch {
          return;
        }
      }
      yield chunk;
    }
  }
}
