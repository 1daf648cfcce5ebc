import type { AudioChunk } from '../audio/chunk.js';
import type { Speaker } from '../hal/speaker.js';

/** Wraps a speaker to time when sounds start and stop, in wall ms. */
export class TimedSpeaker implements Speaker {
  readonly plays: { startMs: number; endMs: number; firstChunkMs: number | undefined }[] = [];
  constructor(private readonly inner: Speaker) {}
  get name(): string {
    return this.inner.name;
  }
  async play(audio: AsyncIterable<AudioChunk> | Iterable<AudioChunk>, signal: AbortSignal): Promise<void> {
    const record: { startMs: number; endMs: number; firstChunkMs: number | undefined } = {
      startMs: performance.now(),
      endMs: 0,
      firstChunkMs: undefined,
    };
    this.plays.push(record);
    async function* watched(): AsyncIterable<AudioChunk> {
      for await (const c of audio) {
        record.firstChunkMs ??= performance.now();
        yield c;
      }
    }
    try {
      await this.inner.play(watched(), signal);
    } finally {
      record.endMs = performance.now();
    }
  }
  close(): Promise<unknown> {
    return this.inner.close();
  }
}
