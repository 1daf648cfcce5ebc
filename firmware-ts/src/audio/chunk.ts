/** Audio moves through the runtime as self-describing chunks (interleaved when stereo). */
export interface AudioChunk {
  readonly pcm: Int16Array;
  readonly sampleRateHz: number;
  readonly channels: number;
  /** Time of the first sample, from the start of the stream. */
  readonly tsMs: number;
}

/** The wake, VAD and command models all take 16 kHz mono. */
export const MODEL_SAMPLE_RATE_HZ = 16_000;

export function durationMs(chunk: AudioChunk): number {
  return (chunk.pcm.length / chunk.channels / chunk.sampleRateHz) * 1000;
}

export function samplesToMs(samples: number, sampleRateHz = MODEL_SAMPLE_RATE_HZ): number {
  return (samples / sampleRateHz) * 1000;
}

/** Splits 16 kHz mono audio into chunks of `chunkSamples` (the last may be shorter). */
export function* splitChunks(
  pcm: Int16Array,
  chunkSamples: number,
  sampleRateHz = MODEL_SAMPLE_RATE_HZ,
): Generator<AudioChunk> {
  for (let start = 0; start < pcm.length; start += chunkSamples) {
    yield {
      pcm: pcm.subarray(start, Math.min(pcm.length, start + chunkSamples)),
      sampleRateHz,
      channels: 1,
      tsMs: samplesToMs(start, sampleRateHz),
    };
  }
}

/**
 * Re-cuts 16 kHz mono pieces of any length (a WAV read a second at a time) into chunks of
 * `chunkSamples`, the last one shorter: the same chunks `splitChunks` cuts from the joined pieces.
 */
export async function* rechunk(
  pieces: AsyncIterable<Int16Array>,
  chunkSamples: number,
  sampleRateHz = MODEL_SAMPLE_RATE_HZ,
): AsyncGenerator<AudioChunk> {
  let pending = new Int16Array(chunkSamples);
  let filled = 0;
  let start = 0;
  const emit = (length: number): AudioChunk => {
    const chunk = {
      pcm: pending.subarray(0, length),
      sampleRateHz,
      channels: 1,
      tsMs: samplesToMs(start, sampleRateHz),
    };
    start += length;
    pending = new Int16Array(chunkSamples);
    filled = 0;
    return chunk;
  };
  for await (const piece of pieces) {
    for (let offset = 0; offset < piece.length;) {
      const take = Math.min(chunkSamples - filled, piece.length - offset);
      pending.set(piece.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === chunkSamples) yield emit(chunkSamples);
    }
  }
  if (filled > 0) yield emit(filled);
}
