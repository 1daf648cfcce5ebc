/**
 * Speech output: text (whole, or streaming from the language model) in, continuous audio out.
 *
 * Sentence by sentence, one ahead: while sentence k plays, sentence k+1 is read from the text and
 * synthesised, so speech starts once the first sentence is known rather than the whole answer, and
 * the speaker is handed one unbroken stream with no gap between sentences. One synthesis runs at a
 * time: the board has two cores and the wake detector needs one.
 */
import type { AudioChunk } from '../audio/chunk.js';
import { GlassesError, isGlassesError, messageOf } from '../errors.js';
import type { Clock } from '../hal/clock.js';
import type { Speaker } from '../hal/speaker.js';
import type { Log } from '../log.js';
import type { Synthesizer } from './espeak.js';
import { sentences } from './sentences.js';

export interface VoiceOptions {
  synthesizer: Synthesizer;
  speaker: Speaker;
  clock: Clock;
  log: Log;
}

export interface SayResult {
  /** Sentences whose audio was handed to the speaker. */
  sentences: number;
  /** `clock.now()` when the first sentence's audio was handed to the speaker; undefined if none was. */
  firstAudioAtMs: number | undefined;
  /** False when the signal aborted before everything was played. */
  completed: boolean;
}

export const DEFAULT_VOLUME = 0.6;
export const VOLUME_STEP = 0.2;
export const MIN_VOLUME = 0.2;
export const MAX_VOLUME = 1.0;
// 100 ms at 16 kHz: small enough that an abort or a volume change is heard within a tenth of a second.
const CHUNK_SAMPLES = 1600;

type Next = { done: true } | { done: false; audio: AudioChunk };

/** Rejects with E_ABORTED when `signal` aborts, so waits on text or synthesis can be cut short. */
function whenAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = (): void => {
      reject(new GlassesError('E_ABORTED', 'speech stopped'));
    };
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}

/**
 * Reads the text's sentences as they arrive, whatever playback is doing, so the next sentence is
 * ready the moment synthesis can take it, and a language-model client that watches for stalls never
 * sees one while a long sentence plays.
 */
function readAhead(text: string | AsyncIterable<string>): {
  /** The next sentence; undefined at the end of the text; rejects if the text source failed. */
  next(): Promise<string | undefined>;
  /** Stops reading (without waiting for a source that is stuck waiting for its next piece). */
  stop(): void;
} {
  const source = sentences(text)[Symbol.asyncIterator]();
  const ready: string[] = [];
  let ended = false;
  let failure: Error | undefined;
  // An object, not a `let`: TypeScript would keep the loop's narrowing of a local across awaits.
  const state = { stopped: false };
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  void (async () => {
    try {
      for (;;) {
        const r = await source.next();
        if (r.done === true || state.stopped) break;
        ready.push(r.value);
        notify();
      }
    } catch (err) {
      failure = err instanceof Error ? err : new Error(messageOf(err), { cause: err });
    } finally {
      ended = true;
      notify();
    }
  })();
  return {
    async next() {
      while (ready.length === 0 && !ended) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      const sentence = ready.shift();
      if (sentence === undefined && failure !== undefined) throw failure;
      return sentence;
    },
    stop() {
      state.stopped = true;
      source.return?.().catch(() => undefined);
    },
  };
}

export class Voice {
  private level = DEFAULT_VOLUME;
  private readonly log: Log;

  constructor(private readonly options: VoiceOptions) {
    this.log = options.log;
  }

  /** Output level, 0..1, applied as a gain to every sample. */
  get volume(): number {
    return this.level;
  }

  louder(): number {
    return this.setLevel(this.level + VOLUME_STEP);
  }

  quieter(): number {
    return this.setLevel(this.level - VOLUME_STEP);
  }

  /**
   * Speaks `text`, streaming it sentence by sentence. An abort stops synthesis and playback at once
   * and resolves with `completed: false`; any other failure rejects.
   */
  async say(text: string | AsyncIterable<string>, signal: AbortSignal): Promise<SayResult> {
    const { synthesizer, speaker, clock } = this.options;
    // Aborted by the caller's signal, and on the way out so that nothing runs on after an error.
    const inner = new AbortController();
    const onAbort = (): void => {
      inner.abort();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) inner.abort();
    const aborted = whenAborted(inner.signal);
    aborted.catch(() => undefined);

    const result: SayResult = { sentences: 0, firstAudioAtMs: undefined, completed: false };
    const reader = readAhead(text);
    const nextAudio = (): Promise<Next> => {
      const p = Promise.race([reader.next(), aborted]).then(async (s): Promise<Next> =>
        s === undefined
          ? { done: true }
          : { done: false, audio: await synthesizer.synthesize(s, inner.signal) },
      );
      // Handled at once: if playback stops first this promise is never awaited.
      p.catch(() => undefined);
      return p;
    };
    const started = clock.now();
    const log = this.log;
    const gain = (chunk: AudioChunk): AudioChunk => this.applyVolume(chunk);
    // A failure of the text source or the synthesizer: what was handed over plays out, then say rejects.
    let failure: Error | undefined;

    async function* stream(): AsyncGenerator<AudioChunk> {
      let offsetSamples = 0;
      let pending = nextAudio();
      for (;;) {
        let next: Next;
        try {
          next = await Promise.race([pending, aborted]);
        } catch (err) {
          if (inner.signal.aborted) throw err;
          failure = err instanceof Error ? err : new Error(messageOf(err), { cause: err });
          return;
        }
        if (next.done) return;
        // Start on the next sentence before this one plays.
        pending = nextAudio();
        const { audio } = next;
        if (audio.pcm.length === 0) continue;
        result.sentences++;
        if (result.firstAudioAtMs === undefined) {
          result.firstAudioAtMs = clock.now();
          log.debug({ latencyMs: result.firstAudioAtMs - started }, 'first audio to the speaker');
        }
        for (let at = 0; at < audio.pcm.length; at += CHUNK_SAMPLES) {
          if (inner.signal.aborted) return;
          yield gain({
            pcm: audio.pcm.subarray(at, Math.min(audio.pcm.length, at + CHUNK_SAMPLES)),
            sampleRateHz: audio.sampleRateHz,
            channels: audio.channels,
            tsMs: ((offsetSamples + at / audio.channels) / audio.sampleRateHz) * 1000,
          });
        }
        offsetSamples += audio.pcm.length / audio.channels;
      }
    }

    try {
      await speaker.play(stream(), inner.signal);
      result.completed = !signal.aborted && failure === undefined;
    } catch (err) {
      if (!(signal.aborted && isGlassesError(err, 'E_ABORTED'))) throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
      inner.abort();
      reader.stop();
    }
    if (failure !== undefined && !signal.aborted) throw failure;
    this.log.debug({ ...result, ms: clock.now() - started }, result.completed ? 'said' : 'speech stopped');
    return result;
  }

  /**
   * A sentence synthesised ahead, to be played later by `play` without the synthesiser (the fallback
   * the loop keeps for when synthesis fails).
   */
  render(text: string, signal: AbortSignal): Promise<AudioChunk> {
    return this.options.synthesizer.synthesize(text, signal);
  }

  /**
   * Plays a ready chunk (the earcon) at the current volume. Like `say`, resolves rather than rejects
   * when `signal` aborts: a barge-in over the chime is not a failure.
   */
  async play(chunk: AudioChunk, signal: AbortSignal): Promise<void> {
    try {
      await this.options.speaker.play([this.applyVolume(chunk)], signal);
    } catch (err) {
      if (!(signal.aborted && isGlassesError(err, 'E_ABORTED'))) throw err;
    }
  }

  private setLevel(level: number): number {
    // Rounded to the step so repeated steps do not drift (0.4 + 0.2 is 0.6000000000000001).
    const stepped = Math.round(level / VOLUME_STEP) * VOLUME_STEP;
    this.level = Math.min(MAX_VOLUME, Math.max(MIN_VOLUME, Number(stepped.toFixed(2))));
    this.log.debug({ volume: this.level }, 'volume');
    return this.level;
  }

  private applyVolume(chunk: AudioChunk): AudioChunk {
    const g = this.level;
    const pcm = new Int16Array(chunk.pcm.length);
    for (let i = 0; i < pcm.length; i++) {
      // Clamped: a gain above 1 must saturate, not wrap around to the opposite sign.
      pcm[i] = Math.max(-32768, Math.min(32767, Math.round((chunk.pcm[i] ?? 0) * g)));
    }
    return { ...chunk, pcm };
  }
}
