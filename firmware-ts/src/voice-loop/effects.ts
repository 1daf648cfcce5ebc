/**
 * Executes the machine's effects: the earcon, capture, timers, recognition, answers and speech. Each
 * async effect runs with its turn's AbortSignal, so barge-in, "stop" or the run's stop signal stops
 * all of a turn's work at once; what it finds goes back to the machine through `dispatch`.
 *
 * A turn's work that fails is reported (an `error` event) and handed to the machine as `failed`,
 * which ends the turn in a short spoken fallback: said as any prompt, or, when the synthesiser is
 * what failed, played from audio made at start (or a failure tone when even that could not be made);
 * when the speaker is what failed nothing can be heard, and the turn just ends.
 */
import type { AudioChunk } from '../audio/chunk.js';
import { codeOf, isGlassesError, messageOf, type ErrorCode } from '../errors.js';
import type { Log } from '../log.js';
import type { CommandRecognizer } from '../speech/recognizer.js';
import { earcon, failureTone } from '../tts/earcon.js';
import type { Voice } from '../tts/voice.js';
import type { ReplyLatency } from './latency.js';
import type { Command, Effect, LoopEvent, LoopTimings, Prompt, TimerName } from './machine.js';
import type { OwnVoice } from './own-voice.js';
import type { AnswerSource, UtteranceEndpointer } from './ports.js';
import type { Responder } from './responder.js';
import type { RunEvent } from './run-events.js';
import type { Timers } from './timers.js';
import type { Utterances } from './utterances.js';
import type { Work } from './work.js';

const PROMPTS: Record<Prompt, string> = {
  'no-speech': "I didn't hear anything.",
  'too-long': "Sorry, that was too long for me. Let's start again.",
  failed: "Sorry, that didn't work. Please try again.",
};

/** What failed, which decides how the fallback can still be heard. */
type FailureKind = 'synthesis' | 'playback' | 'other';

function failureKind(code: ErrorCode): FailureKind {
  if (code === 'E_TTS_FAILED') return 'synthesis';
  if (code === 'E_SPEAKER_OPEN' || code === 'E_SPEAKER_FAILED') return 'playback';
  return 'other';
}

export interface EffectsDeps {
  endpointer: Pick<UtteranceEndpointer, 'begin' | 'cancel'>;
  recognizer: CommandRecognizer;
  /** `render` makes the fallback's audio ahead; without it a failed synthesiser gives the failure tone. */
  voice: Pick<Voice, 'say' | 'play'> & Partial<Pick<Voice, 'render'>>;
  responder: Responder;
  answers: AnswerSource;
  timings: LoopTimings;
  timers: Timers<TimerName>;
  utterances: Utterances;
  latency: ReplyLatency;
  ownVoice: Pick<OwnVoice, 'speaking'>;
  /** Computations in flight, which a file-paced run waits for. */
  work: Work;
  /** The loop's audio ms, for the events' times. */
  audioMs: () => number;
  /** The current turn (0 when idle). */
  turnId: () => number;
  /** Wall-clock ms, for what things cost. */
  wallMs: () => number;
  /** Hands what an effect found to the machine, with `heard` to report as the machine takes it. */
  dispatch: (event: LoopEvent, heard?: RunEvent) => void;
  onEvent: (event: RunEvent) => void;
  log: Log;
}

/** An answer being said: reported when it ends, or when it is cut short if that comes first. */
interface Speech {
  turnId: number;
  atMs: number;
  source: Source;
  text: () => string;
  reported: boolean;
}

type Source = Extract<RunEvent, { type: 'say' }>['source'];

export class Effects {
  private readonly turnAborts = new Map<number, AbortController>();
  private readonly speaking = new Set<Speech>();
  private readonly running = new Set<Promise<void>>();
  /** The run has stopped: every turn is aborted, and so is any turn started after. */
  private stopped = false;
  /** The fallback sentence's audio, made at start for when the synthesiser fails. */
  private fallbackAudio: AudioChunk | undefined;
  /** What failed in each turn handed to the machine as `failed`, until its fallback is said. */
  private readonly failures = new Map<number, FailureKind>();
  /** Turns saying their fallback: a failure then is not another fallback. */
  private readonly failing = new Set<number>();

  constructor(private readonly deps: EffectsDeps) {}

  /** Async effects still running. */
  get pending(): number {
    return this.running.size;
  }

  /**
   * Makes the fallback's audio while the synthesiser works, so a turn whose synthesis fails later
   * still says why. A synthesiser that fails now leaves the failure tone (the start checks report it).
   */
  async prepare(signal: AbortSignal): Promise<void> {
    if (this.deps.voice.render === undefined) return;
    try {
      this.fallbackAudio = await this.deps.voice.render(PROMPTS.failed, signal);
    } catch (err) {
      if (isGlassesError(err, 'E_ABORTED')) return;
      this.deps.log.warn(
        { code: codeOf(err), err: messageOf(err) },
        'the spoken fallback could not be made: a failed synthesis will sound the failure tone',
      );
    }
  }

  execute(effect: Effect): void {
    const { deps } = this;
    switch (effect.type) {
      case 'earcon': {
        const turn = deps.turnId();
        this.spawn(() => deps.voice.play(earcon(), this.turnSignal(turn)));
        return;
      }
      case 'begin-capture':
        deps.endpointer.begin(deps.audioMs());
        return;
      case 'cancel-capture':
        deps.endpointer.cancel();
        return;
      case 'start-timer': {
        const ms = {
          'no-speech': deps.timings.noSpeechTimeoutMs,
          'follow-up': deps.timings.followUpMs,
          'utterance-cap': deps.timings.utteranceCapMs,
        }[effect.timer];
        deps.timers.start(effect.timer, ms, () => {
          deps.dispatch({ type: 'timeout', timer: effect.timer, turnId: effect.turnId });
        });
        return;
      }
      case 'cancel-timer':
        deps.timers.cancel(effect.timer);
        return;
      case 'abort-turn':
        this.turnAborts.get(effect.turnId)?.abort();
        this.turnAborts.delete(effect.turnId);
        return;
      case 'recognize':
        // A failed check for "stop" must not end the answer it was listening over.
        this.spawn(
          () => this.recognize(effect.turnId, effect.utteranceId, effect.purpose),
          effect.purpose === 'command' ? effect.turnId : undefined,
        );
        return;
      case 'respond':
        this.spawn(() => this.respond(effect.turnId, effect.intent), effect.turnId);
        return;
      case 'ask':
        this.spawn(() => this.ask(effect.turnId, effect.utteranceId), effect.turnId);
        return;
      case 'prompt':
        if (effect.prompt === 'failed') {
          this.spawn(() => this.fallback(effect.turnId));
          return;
        }
        this.spawn(async () => {
          await this.say(effect.turnId, PROMPTS[effect.prompt], 'prompt');
        }, effect.turnId);
        return;
    }
  }

  /** A turn has ended: its signal is no longer handed out (aborting it stays the machine's call). */
  endTurn(turnId: number): void {
    this.turnAborts.delete(turnId);
  }

  /**
   * Reports what a turn was saying as cut short, now: the machine is about to abort the turn, and the
   * timeline shows the answer before what cut it, not after it when playback has wound down.
   */
  cutOff(turnId: number, atMs: number): void {
    for (const speech of this.speaking) {
      if (speech.turnId === turnId && !speech.reported) this.report(speech, false, undefined, atMs);
    }
  }

  /** Stops everything at once: the timers and every turn's work, and any turn started after. */
  stop(): void {
    this.stopped = true;
    this.deps.timers.cancelAll();
    for (const c of this.turnAborts.values()) c.abort();
  }

  /** Cancels the timers, aborts every turn's work and waits for it to end. */
  async shutdown(): Promise<void> {
    this.deps.timers.cancelAll();
    for (const c of this.turnAborts.values()) c.abort();
    await Promise.allSettled([...this.running]);
  }

  private turnSignal(turnId: number): AbortSignal {
    let c = this.turnAborts.get(turnId);
    if (c === undefined) {
      c = new AbortController();
      if (this.stopped) c.abort();
      this.turnAborts.set(turnId, c);
    }
    return c.signal;
  }

  /**
   * Runs an async effect in the background, reporting its failure instead of losing it. A failure of
   * `turnId`'s work ends that turn in the fallback (the machine ignores it once the turn is over).
   */
  private spawn(work: () => Promise<void>, turnId?: number): void {
    const p = work()
      .catch((err: unknown) => {
        if (isGlassesError(err, 'E_ABORTED')) return;
        const code = codeOf(err);
        this.deps.log.error({ code, err: messageOf(err) }, 'voice loop effect failed');
        this.deps.onEvent({
          type: 'error',
          atMs: Math.round(this.deps.audioMs()),
          code,
          message: messageOf(err),
        });
        if (turnId === undefined || this.failing.has(turnId)) return;
        this.failures.set(turnId, failureKind(code));
        this.deps.dispatch({ type: 'failed', turnId });
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    return this.deps.work.track(work);
  }

  private async recognize(
    turnId: number,
    utteranceId: number,
    purpose: 'command' | 'barge-in',
  ): Promise<void> {
    const { deps } = this;
    const utterance = deps.utterances.get(utteranceId);
    if (utterance === undefined) return;
    if (purpose === 'barge-in') deps.utterances.drop(utteranceId);
    const t0 = deps.wallMs();
    const r = await this.track(deps.recognizer.recognize(utterance.pcm, this.turnSignal(turnId)));
    // r.ms is the decoder's own time, also when the endpointer already ran it on this audio.
    if (purpose === 'command') deps.latency.recognized(turnId, utterance.silenceWaitMs, r.ms, deps.wallMs());
    const heard: RunEvent = {
      type: 'intent',
      atMs: Math.round(deps.audioMs()),
      turnId,
      name: r.accepted && r.intent !== undefined ? r.intent.name : 'open_question',
      slots: r.accepted && r.intent !== undefined ? r.intent.slots : {},
      accepted: r.accepted,
      confidence: Math.round(r.confidence * 1000) / 1000,
      transcript: r.transcript,
      purpose,
      recognizeMs: Math.round(Math.max(r.ms, deps.wallMs() - t0)),
    };
    deps.log.debug({ turnId, transcript: r.transcript, accepted: r.accepted }, 'recognised');
    // An open question: what the recogniser made of it goes to the answer source with the audio.
    if (r.accepted) deps.utterances.drop(utteranceId);
    else deps.utterances.note(utteranceId, r.transcript, r.confidence);
    // Reported as the machine takes it: a "stop" that cuts an answer comes after the answer.
    deps.dispatch({ type: 'recognized', turnId, utteranceId, accepted: r.accepted, intent: r.intent }, heard);
  }

  private async respond(turnId: number, intent: Command): Promise<void> {
    const signal = this.turnSignal(turnId);
    const text = await this.track(this.deps.responder.respond(intent, signal));
    const completed = await this.say(turnId, text, 'device');
    this.deps.responder.spoken(signal, completed);
  }

  private async ask(turnId: number, utteranceId: number): Promise<void> {
    const utterance = this.deps.utterances.take(utteranceId);
    if (utterance === undefined) return;
    const signal = this.turnSignal(turnId);
    const pieces = this.deps.answers.ask(
      { pcm: utterance.pcm, transcript: utterance.transcript ?? '', confidence: utterance.confidence ?? 0 },
      signal,
    );
    let text = '';
    const track = this.track.bind(this);
    // Pieces are passed on as they come, and kept for "repeat that".
    async function* tracked(): AsyncIterable<string> {
      const it = pieces[Symbol.asyncIterator]();
      for (;;) {
        const next = await track(it.next());
        if (next.done === true) return;
        text += next.value;
        yield next.value;
      }
    }
    await this.say(turnId, tracked(), 'answer-source', () => text);
    this.deps.responder.remember(text);
  }

  /**
   * The turn's fallback: said like a prompt, or played from the audio made at start when synthesis
   * is what failed, or nothing when the speaker is; then the turn is done. It never fails itself.
   */
  private async fallback(turnId: number): Promise<void> {
    const { deps } = this;
    let kind = this.failures.get(turnId) ?? 'other';
    this.failures.delete(turnId);
    this.failing.add(turnId);
    try {
      if (kind === 'other') {
        try {
          await this.say(turnId, PROMPTS.failed, 'prompt');
          return;
        } catch (err) {
          if (isGlassesError(err, 'E_ABORTED')) return;
          const code = codeOf(err);
          deps.log.warn({ code, err: messageOf(err) }, 'the spoken fallback failed');
          kind = failureKind(code) === 'playback' ? 'playback' : 'synthesis';
        }
      }
      if (kind === 'synthesis') {
        const atMs = Math.round(deps.audioMs());
        const audio = this.fallbackAudio;
        try {
          await deps.voice.play(audio ?? failureTone(), this.turnSignal(turnId));
          if (audio !== undefined) {
            deps.onEvent({
              type: 'say',
              atMs,
              turnId,
              text: PROMPTS.failed,
              source: 'prompt',
              completed: true,
            });
          }
        } catch (err) {
          if (isGlassesError(err, 'E_ABORTED')) return;
          deps.log.warn({ err: messageOf(err) }, 'the fallback could not be played');
        }
      }
      deps.dispatch({ type: 'answer-done', turnId });
    } finally {
      this.failing.delete(turnId);
    }
  }

  private async say(
    turnId: number,
    text: string | AsyncIterable<string>,
    source: Source,
    finalText: () => string = () => (typeof text === 'string' ? text : ''),
  ): Promise<boolean> {
    const { deps } = this;
    const speech: Speech = {
      turnId,
      atMs: Math.round(deps.audioMs()),
      source,
      text: finalText,
      reported: false,
    };
    this.speaking.add(speech);
    let result;
    try {
      result = await deps.ownVoice.speaking(typeof text === 'string' ? () => text : finalText, () =>
        deps.voice.say(text, this.turnSignal(turnId)),
      );
    } finally {
      this.speaking.delete(speech);
    }
    if (!speech.reported) {
      const firstAudioMs =
        source === 'prompt' ? undefined : deps.latency.firstAudioMs(turnId, result.firstAudioAtMs);
      this.report(speech, result.completed, firstAudioMs);
    }
    deps.dispatch({ type: 'answer-done', turnId });
    return result.completed;
  }

  private report(
    speech: Speech,
    completed: boolean,
    firstAudioMs?: number,
    cutOffAtMs: number = this.deps.audioMs(),
  ): void {
    speech.reported = true;
    this.deps.onEvent({
      type: 'say',
      atMs: speech.atMs,
      turnId: speech.turnId,
      text: speech.text(),
      source: speech.source,
      ...(firstAudioMs === undefined ? {} : { firstAudioMs }),
      completed,
      ...(completed ? {} : { cutOffAtMs: Math.round(cutOffAtMs) }),
    });
  }
}
