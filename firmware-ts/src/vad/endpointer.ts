/**
 * Endpointing: after the wake phrase, finds where the wearer's utterance starts and ends in the mic
 * stream, from Silero VAD speech probabilities, and hands back its audio.
 *
 * Time here is audio time (samples pushed, from the first chunk's `tsMs`), never wall time: every
 * decision is taken at the end of a 512-sample VAD window, so a file replayed as fast as possible gives
 * the same utterances as the same audio heard live, whatever the chunk size. That holds for the
 * completeness check too: its answer counts as given at the window where it was asked, and push()
 * waits for it only when the audio needs it (speech resumes, the long silence or the cap is reached).
 */
import { MODEL_SAMPLE_RATE_HZ, samplesToMs, type AudioChunk } from '../audio/chunk.js';
import { GlassesError } from '../errors.js';
import type { UtteranceEndpointer } from '../voice-loop/ports.js';
import type { EndpointEvent, VoiceActivityDetector } from './vad.js';

export type { EndpointEvent };

/**
 * A run of speech windows must last this long before speech starts. Measured on the real model over
 * espeak-ng audio: noise bursts of 10-200 ms never reach p = 0.5, while even 80 ms of a spoken word
 * holds p >= 0.5 for 7 windows (the model's state carries it on), so a run of one or two windows is a
 * click or a glitch, not speech. Silero's offline get_speech_timestamps asks for 250 ms; here a
 * longer minimum would only delay speech-start (the utterance is backdated anyway) and cut short words.
 */
export const MIN_SPEECH_WINDOWS = 3; // 96 ms
/**
 * A speech run already going when capture begins is most likely the end of the wake phrase: some
 * heads fire before the phrase is over. Measured with the four pretrained openWakeWord heads on our
 * espeak-ng fixtures (begin() at the detection), such a run lasts at most 5 windows (160 ms) after it.
 * It counts as speech only once it lasts this long after begin(), so a command run on from the wake
 * phrase without a pause is still caught, backdated by the pre-roll.
 */
export const CARRIED_SPEECH_WINDOWS = 12; // 384 ms
/**
 * Audio kept after the last speech window. Measured on espeak-ng commands: Silero's last speech
 * window ends from 32 ms before the energy end (a final plosive: "stop") to 96 ms after it (the
 * model's state carries the probability on). 100 ms covers the early case with margin; Silero's own
 * VADIterator pads 30 ms, enough for segmenting, short for a recogniser that needs the last phoneme.
 */
export const UTTERANCE_TAIL_MS = 100;

const SAMPLES_PER_MS = MODEL_SAMPLE_RATE_HZ / 1000;

export interface EndpointerOptions {
  /** Owned by the endpointer (reset on construction): it must see the whole stream, in order. */
  vad: VoiceActivityDetector;
  /** Silero probability (0..1) counting as speech, e.g. 0.5. */
  speechThreshold: number;
  /** Audio kept before speech starts, ~300. */
  preRollMs: number;
  /** Silence ending an utterance that already forms a complete command, e.g. 350. */
  shortSilenceMs: number;
  /** Silence ending any other utterance, e.g. 900. */
  longSilenceMs: number;
  /** Cap on the utterance's audio (pre-roll included), e.g. 8000. */
  maxUtteranceMs: number;
  /**
   * Called (at most once per pause) when a pause reaches shortSilenceMs: does the audio so far form a
   * complete command? A rejection counts as "no". The signal aborts when the answer is no longer
   * wanted (cancel() or begin()).
   */
  isComplete?: (pcm: Int16Array, signal: AbortSignal) => Promise<boolean>;
}

type UtteranceEvent = Extract<EndpointEvent, { type: 'utterance' }>;

interface CompletenessCheck {
  readonly controller: AbortController;
  /** Where the utterance ends if the answer is yes. */
  readonly endSample: number;
  answer: boolean | undefined;
  readonly settled: Promise<boolean>;
}

type Phase =
  | { name: 'off' }
  /**
   * Capturing, no speech yet: `run` speech windows in a row, the first starting at `runStart`;
   * `carried` when that run goes on from speech before begin().
   */
  | { name: 'listening'; fromSample: number; run: number; runStart: number; carried: boolean }
  | {
      name: 'speech';
      /** First sample of the utterance (pre-roll included). */
      start: number;
      /** End of the last speech window. */
      speechEnd: number;
      /** Whether this pause has had its completeness check. */
      asked: boolean;
      check: CompletenessCheck | undefined;
    };

const OFF: Phase = { name: 'off' };

export class Endpointer implements UtteranceEndpointer {
  private readonly history = new SampleHistory();
  private readonly preRollSamples: number;
  private readonly shortSilenceSamples: number;
  private readonly longSilenceSamples: number;
  private readonly maxSamples: number;
  /** Samples kept outside an utterance. */
  private readonly keepSamples: number;
  private readonly tailSamples = UTTERANCE_TAIL_MS * SAMPLES_PER_MS;
  /** The VAD's window: every decision is taken at the end of one. */
  private readonly windowSamples: number;
  /** Stream index of the first sample pushed; undefined until then. */
  private origin: number | undefined;
  private windows = 0;
  /** Whether the last window was speech, whatever the phase. */
  private lastWasSpeech = false;
  private phase: Phase = OFF;

  constructor(private readonly options: EndpointerOptions) {
    this.windowSamples = options.vad.windowSamples;
    const { speechThreshold, preRollMs, shortSilenceMs, longSilenceMs, maxUtteranceMs } = options;
    if (!(speechThreshold > 0 && speechThreshold <= 1))
      throw new Error(`Endpointer: speechThreshold must be in (0, 1], got ${speechThreshold}`);
    if (!(preRollMs >= 0 && shortSilenceMs > 0 && longSilenceMs >= shortSilenceMs))
      throw new Error(
        `Endpointer: needs preRollMs >= 0 and 0 < shortSilenceMs <= longSilenceMs, got ${preRollMs}, ${shortSilenceMs}, ${longSilenceMs}`,
      );
    if (!(maxUtteranceMs > preRollMs))
      throw new Error(`Endpointer: maxUtteranceMs (${maxUtteranceMs}) must exceed preRollMs (${preRollMs})`);
    this.preRollSamples = msToSamples(preRollMs);
    this.shortSilenceSamples = msToSamples(shortSilenceMs);
    this.longSilenceSamples = msToSamples(longSilenceMs);
    this.maxSamples = msToSamples(maxUtteranceMs);
    this.keepSamples =
      this.preRollSamples + Math.max(MIN_SPEECH_WINDOWS, CARRIED_SPEECH_WINDOWS) * this.windowSamples;
    options.vad.reset();
  }

  /**
   * Start capturing at stream time `atMs` (e.g. right after the wake phrase); audio before is only
   * pre-roll. A time already pushed counts as the next audio pushed. Starts over if already capturing.
   */
  begin(atMs: number): void {
    this.stop();
    this.phase = { name: 'listening', fromSample: msToSamples(atMs), run: 0, runStart: 0, carried: false };
  }

  /** Stop capturing without an utterance (timeout, cancel). */
  cancel(): void {
    this.stop();
  }

  get capturing(): boolean {
    return this.phase.name !== 'off';
  }

  /** Feed 16 kHz mono audio of any chunk size (stream time in chunk.tsMs); returns events completed by it. */
  async push(chunk: AudioChunk): Promise<EndpointEvent[]> {
    if (chunk.sampleRateHz !== MODEL_SAMPLE_RATE_HZ || chunk.channels !== 1) {
      throw new GlassesError(
        'E_AUDIO_FORMAT',
        `endpointer takes 16000 Hz mono audio, got ${chunk.sampleRateHz} Hz with ${chunk.channels} channels`,
        { details: { sampleRateHz: chunk.sampleRateHz, channels: chunk.channels } },
      );
    }
    if (this.origin === undefined) {
      this.origin = msToSamples(chunk.tsMs);
      this.history.restart(this.origin);
    }
    const events: EndpointEvent[] = [];
    this.history.append(chunk.pcm);
    for (const prob of await this.options.vad.push(chunk.pcm)) {
      this.windows++;
      await this.onWindow(
        prob >= this.options.speechThreshold,
        this.origin + this.windows * this.windowSamples,
        events,
      );
    }
    this.applyAnswer(events);
    return events;
  }

  private async onWindow(speech: boolean, end: number, events: EndpointEvent[]): Promise<void> {
    this.applyAnswer(events);
    const phase = this.phase;
    if (phase.name === 'listening') this.listen(phase, speech, end, events);
    else if (phase.name === 'speech') await this.follow(phase, speech, end, events);
    this.lastWasSpeech = speech;
    // Outside an utterance only the pre-roll is kept, before the longest run that may yet confirm.
    if (this.phase.name !== 'speech') this.history.dropBefore(end - this.keepSamples);
  }

  private listen(
    phase: Extract<Phase, { name: 'listening' }>,
    speech: boolean,
    end: number,
    events: EndpointEvent[],
  ): void {
    // A window that ends before capture begins is pre-roll only.
    if (end <= phase.fromSample) return;
    if (!speech) {
      phase.run = 0;
      return;
    }
    if (phase.run === 0) {
      phase.runStart = end - this.windowSamples;
      // The window before was speech yet started no run: it was before begin().
      phase.carried = this.lastWasSpeech;
    }
    phase.run++;
    if (phase.run < (phase.carried ? CARRIED_SPEECH_WINDOWS : MIN_SPEECH_WINDOWS)) return;
    events.push({ type: 'speech-start', atMs: samplesToMs(phase.runStart) });
    this.phase = {
      name: 'speech',
      start: Math.max(this.history.first, phase.runStart - this.preRollSamples),
      speechEnd: end,
      asked: false,
      check: undefined,
    };
  }

  private async follow(
    phase: Extract<Phase, { name: 'speech' }>,
    speech: boolean,
    end: number,
    events: EndpointEvent[],
  ): Promise<void> {
    const silence = speech ? 0 : end - phase.speechEnd;
    const capped = end - phase.start >= this.maxSamples;
    if (phase.check !== undefined && (speech || capped || silence >= this.longSilenceSamples)) {
      // This window would change the outcome: the pending answer, due at an earlier window, comes first.
      phase.check.answer = await phase.check.settled;
      this.applyAnswer(events);
      if (this.phase !== phase) return;
    }
    if (speech) {
      // Any speech window keeps the utterance going (as Silero's VADIterator does): Silero dips below
      // the threshold for a window or two inside words ("what time is it"), and a pause starts over.
      phase.speechEnd = end;
      phase.asked = false;
    } else if (silence >= this.longSilenceSamples) {
      events.push(this.finish(phase, 'long-silence', end));
      return;
    } else if (silence >= this.shortSilenceSamples && !phase.asked && this.options.isComplete !== undefined) {
      phase.asked = true;
      phase.check = this.ask(this.options.isComplete, phase, end);
    }
    if (capped) events.push(this.finish(phase, 'max-length', phase.start + this.maxSamples));
  }

  private ask(
    isComplete: NonNullable<EndpointerOptions['isComplete']>,
    phase: Extract<Phase, { name: 'speech' }>,
    at: number,
  ): CompletenessCheck {
    const endSample = Math.min(phase.speechEnd + this.tailSamples, at);
    const controller = new AbortController();
    let answer: Promise<boolean>;
    try {
      answer = isComplete(this.history.slice(phase.start, endSample), controller.signal);
    } catch {
      answer = Promise.resolve(false);
    }
    const settled = answer.then(
      (yes) => yes,
      () => false,
    );
    const check: CompletenessCheck = { controller, endSample, answer: undefined, settled };
    void settled.then((yes) => {
      check.answer = yes;
    });
    return check;
  }

  /** Applies a completeness answer that has arrived: yes ends the utterance where it was asked. */
  private applyAnswer(events: EndpointEvent[]): void {
    const phase = this.phase;
    if (phase.name !== 'speech' || phase.check?.answer === undefined) return;
    const { answer, endSample } = phase.check;
    phase.check = undefined;
    if (answer) events.push(this.finish(phase, 'short-silence', endSample));
  }

  /** Ends the utterance: its audio runs to the end of speech plus the tail, and no further than `limit`. */
  private finish(
    phase: Extract<Phase, { name: 'speech' }>,
    reason: UtteranceEvent['reason'],
    limit: number,
  ): UtteranceEvent {
    const end = Math.min(phase.speechEnd + this.tailSamples, limit);
    this.phase = OFF;
    return {
      type: 'utterance',
      pcm: this.history.slice(phase.start, end),
      startMs: samplesToMs(phase.start),
      endMs: samplesToMs(end),
      reason,
    };
  }

  private stop(): void {
    if (this.phase.name === 'speech') this.phase.check?.controller.abort();
    this.phase = OFF;
  }
}

function msToSamples(ms: number): number {
  return Math.round(ms * SAMPLES_PER_MS);
}

/** The stream's recent samples, addressed by their index in the stream. */
class SampleHistory {
  private buffer = new Int16Array(16 * 1024);
  /** Offset in `buffer` of the first kept sample. */
  private offset = 0;
  private length = 0;
  /** Stream index of the first kept sample. */
  first = 0;

  restart(first: number): void {
    this.first = first;
    this.offset = 0;
    this.length = 0;
  }

  append(pcm: Int16Array): void {
    if (this.offset + this.length + pcm.length > this.buffer.length) {
      const kept = this.buffer.subarray(this.offset, this.offset + this.length);
      if (this.length + pcm.length > this.buffer.length) {
        const grown = new Int16Array(Math.max(2 * this.buffer.length, this.length + pcm.length));
        grown.set(kept);
        this.buffer = grown;
      } else {
        this.buffer.copyWithin(0, this.offset, this.offset + this.length);
      }
      this.offset = 0;
    }
    this.buffer.set(pcm, this.offset + this.length);
    this.length += pcm.length;
  }

  /** Forgets the samples before stream index `index`. */
  dropBefore(index: number): void {
    const drop = Math.min(this.length, Math.max(0, index - this.first));
    this.offset += drop;
    this.length -= drop;
    this.first += drop;
  }

  /** A copy of the kept samples in [from, to) (stream indices). */
  slice(from: number, to: number): Int16Array {
    const a = Math.max(0, from - this.first);
    const b = Math.min(this.length, to - this.first);
    return this.buffer.slice(this.offset + a, this.offset + Math.max(a, b));
  }
}
