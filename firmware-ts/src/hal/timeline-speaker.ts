/**
 * A speaker for runs on files: what is played lands in a WAV at the moment it is played on the
 * runtime's clock, so the output lines up with the input recording, and playing takes clock time
 * (barge-in can cut it). Written atomically on close.
 */
import { join } from 'node:path';
import { MODEL_SAMPLE_RATE_HZ, type AudioChunk } from '../audio/chunk.js';
import { writeWav } from '../audio/wav.js';
import { GlassesError } from '../errors.js';
import { makePrivateDir } from '../util/private-file.js';
import type { Clock } from './clock.js';
import type { Speaker } from './speaker.js';

/** Shorter sounds are earcons, not answers. */
const MIN_SEGMENT_SAMPLES = (MODEL_SAMPLE_RATE_HZ * 300) / 1000;

/** Played in slices this long, so an abort cuts the sound within 20 ms, as on a real device. */
const SLICE_MS = 20;

export class TimelineSpeaker implements Speaker {
  readonly name: string;
  private out = new Int16Array(MODEL_SAMPLE_RATE_HZ * 10);
  private end = 0;
  /** Each play() call's audio, for writing the answers one file each. */
  private readonly segments: Int16Array[][] = [];

  constructor(
    private readonly file: string,
    private readonly clock: Clock,
    /** Also write each played sound longer than an earcon as its own WAV in this folder. */
    private readonly segmentsDir?: string,
  ) {
    this.name = `file:${file}`;
  }

  async play(audio: AsyncIterable<AudioChunk> | Iterable<AudioChunk>, signal: AbortSignal): Promise<void> {
    const segment: Int16Array[] = [];
    this.segments.push(segment);
    for await (const chunk of audio) {
      if (chunk.sampleRateHz !== MODEL_SAMPLE_RATE_HZ || chunk.channels !== 1) {
        throw new GlassesError(
          'E_AUDIO_FORMAT',
          `speaker ${this.file}: takes 16000 Hz mono, got ${chunk.sampleRateHz} Hz x${chunk.channels}`,
          {
            details: { file: this.file },
          },
        );
      }
      const slice = (MODEL_SAMPLE_RATE_HZ * SLICE_MS) / 1000;
      for (let at = 0; at < chunk.pcm.length; at += slice) {
        if (signal.aborted) throw new GlassesError('E_ABORTED', `playback on ${this.file} stopped`);
        const part = chunk.pcm.subarray(at, Math.min(chunk.pcm.length, at + slice));
        this.write(part, Math.round((this.clock.now() * MODEL_SAMPLE_RATE_HZ) / 1000));
        segment.push(part);
        await this.clock.sleep((part.length / MODEL_SAMPLE_RATE_HZ) * 1000, signal);
      }
    }
  }

  private write(pcm: Int16Array, at: number): void {
    const need = at + pcm.length;
    if (need > this.out.length) {
      const grown = new Int16Array(Math.max(need, this.out.length * 2));
      grown.set(this.out);
      this.out = grown;
    }
    // Overlapping sounds (an earcon over the tail of an answer) mix, with clipping.
    for (let i = 0; i < pcm.length; i++) {
      const v = (this.out[at + i] ?? 0) + (pcm[i] ?? 0);
      this.out[at + i] = Math.max(-32768, Math.min(32767, v));
    }
    this.end = Math.max(this.end, need);
  }

  /** The output so far, from time zero. */
  played(): Int16Array {
    return this.out.slice(0, this.end);
  }

  /** Writes the whole timeline, and each answer (what one play() call played, earcons left out). */
  async close(): Promise<string[]> {
    await writeWav(this.file, this.played(), MODEL_SAMPLE_RATE_HZ, 1);
    const written: string[] = [];
    if (this.segmentsDir === undefined) return written;
    // The answers the wearer was given: 0600 files (writeWav's) in a 0700 folder.
    await makePrivateDir(this.segmentsDir);
    for (const parts of this.segments) {
      const samples = parts.reduce((n, p) => n + p.length, 0);
      if (samples < MIN_SEGMENT_SAMPLES) continue;
      const pcm = new Int16Array(samples);
      let at = 0;
      for (const p of parts) {
        pcm.set(p, at);
        at += p.length;
      }
      const file = join(this.segmentsDir, `answer-${String(written.length + 1).padStart(2, '0')}.wav`);
      await writeWav(file, pcm, MODEL_SAMPLE_RATE_HZ, 1);
      written.push(file);
    }
    return written;
  }
}
