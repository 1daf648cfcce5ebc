/**
 * Runs the voice loop: feeds the microphone to the wake detector and the endpointer, turns what they
 * find into events for the state machine, and executes the machine's effects (earcon, recognition,
 * answers, speech, timers), each with the AbortSignal of its turn so barge-in stops them all at once.
 *
 * On files (`pace: 'file'`) the clock is the microphone's audio time and the runner lets every
 * computation finish before the next chunk, so a run on a file gives the same timeline every time
 * however fast the machine; wall-clock costs are still measured and reported in the events.
 */
import { durationMs, samplesToMs, type AudioChunk } from '../audio/chunk.js';
import { isGlassesError, messageOf, type ErrorCode } from '../errors.js';
import type { Clock } from '../hal/clock.js';
import type { Mic } from '../hal/mic.js';
import type { Log } from '../log.js';
import type { CommandRecognizer } from '../speech/recognizer.js';
import type { Intent } from '../speech/intents.js';
import { earcon } from '../tts/earcon.js';
import type { Voice } from '../tts/voice.js';
import { FRAME_MS } from '../wake/features.js';
import {
  IDLE,
  transition,
  type Command,
  type Effect,
  type LoopEvent,
  type LoopTimings,
  type Prompt,
  type State,
  type TimerName,
} from './machine.js';
import { Work } from './work.js';
import type {
  AnswerSource,
  OrderEvent,
  OrderEvents,
  UtteranceEndpointer,
  WakeWordDetector,
} from './ports.js';
import type { Responder } from './responder.js';
import { Timers } from './timers.js';

/** What a run reports, one object per happening; `--json` prints them as lines. */
export type RunEvent =
  | { type: 'state'; atMs: number; from: State['name']; to: State['name']; turnId?: number }
  | { type: 'wake'; atMs: number; phrase: string; score: number; echo: boolean }
  | { type: 'utterance'; atMs: number; turnId: number; durationMs: number; reason: string }
  | {
      type: 'intent';
      atMs: number;
      turnId: number;
      name: string;
      slots: Intent['slots'];
      accepted: boolean;
      confidence: number;
      transcript: string;
      purpose: 'command' | 'barge-in';
      recognizeMs: number;
    }
  | {
      type: 'say';
      atMs: number;
      turnId: number;
      text: string;
      source: 'device' | 'answer-source' | 'prompt';
      /** Wall ms from the end of the utterance to the first audio handed to the speaker. */
      firstAudioMs?: number;
      completed: boolean;
    }
  | { type: 'order'; atMs: number; orderId: string; status: string; state: 'placed' | 'queued' }
  | { type: 'error'; atMs: number; code: string; message: string };

export interface RunnerDeps {
  mic: Mic;
  clock: Clock;
  /** `file`: the clock follows the mic's audio and effects finish before the next chunk. */
  pace: 'live' | 'file';
  detector: WakeWordDetector;
  /** The words of each wake phrase, to tell the glasses' own voice from the wearer's. */
  phraseWords: Readonly<Record<string, string>>;
  endpointer: UtteranceEndpointer;
  /** The endpointer's closing silences, for the reply latency. */
  silences: { shortMs: number; longMs: number };
  recognizer: CommandRecognizer;
  voice: Pick<Voice, 'say' | 'play'>;
  responder: Responder;
  answers: AnswerSource;
  timings: LoopTimings;
  onEvent: (event: RunEvent) => void;
  log: Log;
  /** Wall-clock ms, for measuring what things cost (the loop's own clock may be simulated). */
  wallMs?: () => number;
  /** Shared with the voice's synthesizer, so file pace also waits for speech being synthesised. */
  work?: Work;
  /** The orders service's events, reported as `order` run events. */
  orderEvents?: Pick<OrderEvents, 'subscribe'>;
}

const PROMPTS: Record<Prompt, string> = {
  'no-speech': "I didn't hear anything.",
  'too-long': "Sorry, that was too long for me. Let's start again.",
};

/** Silence fed after a file ends, so timers and the follow-up window run out: at most this long. */
const DRAIN_AUDIO_MS = 30_000;

/**
 * A chunk cut into pieces of at most one wake frame (80 ms). A mic read after the loop fell behind
 * (a busy board, a pipe that filled) hands over seconds at once; the wake detector and the endpointer
 * must still take turns frame by frame, or capture would begin at the end of the whole chunk and the
 * words said right after the wake phrase would be lost.
 */
export function* framePieces(chunk: AudioChunk): Generator<AudioChunk> {
  const step = Math.round((chunk.sampleRateHz * FRAME_MS) / 1000) * chunk.channels;
  if (chunk.pcm.length <= step) {
    yield chunk;
    return;
  }
  for (let at = 0; at < chunk.pcm.length; at += step) {
    yield {
      ...chunk,
      pcm: chunk.pcm.subarray(at, at + step),
      tsMs: chunk.tsMs + samplesToMs(at / chunk.channels, chunk.sampleRateHz),
    };
  }
}

export class VoiceLoopRunner {
  private state: State = IDLE;
  private nextTurnId = 1;
  private nextUtteranceId = 1;
  /** Captured utterances, with the audio ms between the end of speech and the utterance closing. */
  private readonly utterances = new Map<
    number,
    { pcm: Int16Array; silenceWaitMs: number; transcript?: string; confidence?: number }
  >();
  /** For the reply latency of a turn: the silence waited, the recognition's cost, when it was known. */
  private readonly turnTiming = new Map<
    number,
    { silenceWaitMs: number; recognizeMs: number; recognizedWallMs: number }
  >();
  private readonly turnAborts = new Map<number, AbortController>();
  private readonly timers: Timers<TimerName>;
  private readonly pending = new Set<Promise<void>>();
  /** Computations in flight (recognition, answers, and synthesis when shared with the voice). */
  private readonly work: Work;
  private audioMs = 0;
  /**
   * What the glasses are saying now (so far, for an answer still streaming in), to recognise their
   * own wake phrase.
   */
  private speaking: (() => string) | undefined;
  private readonly wallMs: () => number;
  /** The run's signal has aborted: every turn is aborted, and so is any turn started after. */
  private stopped = false;

  constructor(private readonly deps: RunnerDeps) {
    this.timers = new Timers(deps.clock);
    this.work = deps.work ?? new Work();
    this.wallMs = deps.wallMs ?? (() => performance.now());
    deps.orderEvents?.subscribe((order) => {
      this.reportOrder(order);
    });
  }

  get current(): State {
    return this.state;
  }

  /**
   * Runs until the mic ends (then, on files, until the loop is idle) or `signal` aborts. An abort
   * (the process's stop signal) stops everything at once: every turn's work (recognition, a cloud
   * answer still streaming, synthesis, playback) and the timers, so nothing is waited for to its end
   * or its deadline.
   */
  async run(signal: AbortSignal): Promise<void> {
    const stop = (): void => {
      this.stopped = true;
      this.timers.cancelAll();
      for (const c of this.turnAborts.values()) c.abort();
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const chunk of this.deps.mic.chunks(signal)) {
        for (const piece of framePieces(chunk)) {
          if (this.stopped) break;
          await this.feed(piece);
        }
        if (this.stopped) break;
      }
      if (this.deps.pace === 'file') {
        // Let the loop finish what it started: feed silence until it is idle with nothing playing.
        const silence = new Int16Array(1280);
        let fed = 0;
        while (
          !this.stopped &&
          (this.state.name !== 'idle' || this.pending.size > 0) &&
          fed < DRAIN_AUDIO_MS
        ) {
          await this.feed({ pcm: silence, sampleRateHz: 16000, channels: 1, tsMs: this.audioMs });
          fed += 80;
        }
      }
    } finally {
      signal.removeEventListener('abort', stop);
      await this.shutdown();
    }
  }

  /** Feed at most one wake frame (see framePieces). */
  private async feed(chunk: AudioChunk): Promise<void> {
    const { detector, endpointer, clock, pace } = this.deps;
    const start = this.audioMs;
    this.audioMs = start + durationMs(chunk);
    if (pace === 'file')
      await (clock as { advance?: (ms: number) => Promise<void> }).advance?.(durationMs(chunk));
    const stamped = { ...chunk, tsMs: start };
    for (const d of await detector.push(stamped)) {
      const words = this.deps.phraseWords[d.phrase];
      const said = this.speaking?.();
      const echo = said !== undefined && words !== undefined && said.toLowerCase().includes(words);
      this.deps.onEvent({ type: 'wake', atMs: d.atMs, phrase: d.phrase, score: d.score, echo });
      this.dispatch({ type: 'wake', phrase: d.phrase, echo });
    }
    for (const e of await endpointer.push(stamped)) {
      if (e.type === 'speech-start') this.dispatch({ type: 'speech-start' });
      else {
        const utteranceId = this.nextUtteranceId++;
        // The silence that closed it, by definition of its reason (on files the audio may have run
        // on while a completeness check was computing, so the clock would overstate it).
        const { silences } = this.deps;
        const silenceWaitMs =
          e.reason === 'short-silence' ? silences.shortMs : e.reason === 'long-silence' ? silences.longMs : 0;
        this.utterances.set(utteranceId, { pcm: e.pcm, silenceWaitMs });
        const turnId = this.state.name === 'idle' ? 0 : this.state.turnId;
        this.deps.onEvent({
          type: 'utterance',
          atMs: e.endMs,
          turnId,
          durationMs: Math.round(e.endMs - e.startMs),
          reason: e.reason,
        });
        const effects = this.dispatch({ type: 'utterance', utteranceId });
        // An utterance the loop does not act on (heard while it was busy) is dropped at once:
        // the wearer's audio is kept no longer than it is needed.
        if (!effects.some((x) => 'utteranceId' in x && x.utteranceId === utteranceId))
          this.utterances.delete(utteranceId);
      }
    }
    if (pace === 'file') await this.settle();
  }

  /**
   * Waits until no computation is running: each remaining effect is waiting for clock time. Not once
   * the run is stopping: what is running has been aborted and is not worth waiting for here.
   */
  private async settle(): Promise<void> {
    for (let quiet = 0; quiet < 3 && !this.stopped;) {
      await new Promise((r) => setImmediate(r));
      quiet = this.work.busy ? 0 : quiet + 1;
    }
  }

  private track<T>(work: Promise<T>): Promise<T> {
    return this.work.track(work);
  }

  /** Reports an order placed or queued by the orders port, at the loop's audio time. */
  reportOrder(order: OrderEvent): void {
    this.deps.onEvent({ type: 'order', atMs: Math.round(this.audioMs), ...order });
  }

  private dispatch(event: LoopEvent): Effect[] {
    const before = this.state;
    const { state, effects } = transition(before, event, this.nextTurnId);
    if (state.name !== 'idle' && state.turnId === this.nextTurnId) this.nextTurnId++;
    this.state = state;
    if (
      state.name !== before.name ||
      (state.name !== 'idle' && before.name !== 'idle' && state.turnId !== before.turnId)
    ) {
      this.deps.onEvent({
        type: 'state',
        atMs: Math.round(this.audioMs),
        from: before.name,
        to: state.name,
        ...(state.name === 'idle' ? {} : { turnId: state.turnId }),
      });
    }
    for (const effect of effects) this.execute(effect);
    // After the effects, which may abort the turn that just ended: its per-turn state goes now.
    if (before.name !== 'idle' && (state.name === 'idle' || state.turnId !== before.turnId)) {
      this.turnTiming.delete(before.turnId);
      this.turnAborts.delete(before.turnId);
    }
    return effects;
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

  /** Runs an async effect in the background, reporting its failure instead of losing it. */
  private spawn(work: () => Promise<void>): void {
    const p = work()
      .catch((err: unknown) => {
        if (isGlassesError(err, 'E_ABORTED')) return;
        const code: ErrorCode = isGlassesError(err) ? err.code : 'E_INTERNAL';
        this.deps.log.error({ code, err: messageOf(err) }, 'voice loop effect failed');
        this.deps.onEvent({ type: 'error', atMs: Math.round(this.audioMs), code, message: messageOf(err) });
      })
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private execute(effect: Effect): void {
    const { deps } = this;
    switch (effect.type) {
      case 'earcon': {
        const turn = this.state.name === 'idle' ? 0 : this.state.turnId;
        this.spawn(() => deps.voice.play(earcon(), this.turnSignal(turn)));
        return;
      }
      case 'begin-capture':
        deps.endpointer.begin(this.audioMs);
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
        this.timers.start(effect.timer, ms, () => {
          this.dispatch({ type: 'timeout', timer: effect.timer, turnId: effect.turnId });
        });
        return;
      }
      case 'cancel-timer':
        this.timers.cancel(effect.timer);
        return;
      case 'abort-turn':
        this.turnAborts.get(effect.turnId)?.abort();
        this.turnAborts.delete(effect.turnId);
        return;
      case 'recognize':
        this.spawn(() => this.recognize(effect.turnId, effect.utteranceId, effect.purpose));
        return;
      case 'respond':
        this.spawn(() => this.respond(effect.turnId, effect.intent));
        return;
      case 'ask':
        this.spawn(() => this.ask(effect.turnId, effect.utteranceId));
        return;
      case 'prompt':
        this.spawn(async () => {
          await this.say(effect.turnId, PROMPTS[effect.prompt], 'prompt');
        });
        return;
    }
  }

  private async recognize(
    turnId: number,
    utteranceId: number,
    purpose: 'command' | 'barge-in',
  ): Promise<void> {
    const utterance = this.utterances.get(utteranceId);
    if (utterance === undefined) return;
    if (purpose === 'barge-in') this.utterances.delete(utteranceId);
    const t0 = this.wallMs();
    const r = await this.track(this.deps.recognizer.recognize(utterance.pcm, this.turnSignal(turnId)));
    if (purpose === 'command') {
      // r.ms is the decoder's own time, also when the endpointer already ran it on this audio.
      this.turnTiming.set(turnId, {
        silenceWaitMs: utterance.silenceWaitMs,
        recognizeMs: r.ms,
        recognizedWallMs: this.wallMs(),
      });
    }
    this.deps.onEvent({
      type: 'intent',
      atMs: Math.round(this.audioMs),
      turnId,
      name: r.accepted && r.intent !== undefined ? r.intent.name : 'open_question',
      slots: r.accepted && r.intent !== undefined ? r.intent.slots : {},
      accepted: r.accepted,
      confidence: Math.round(r.confidence * 1000) / 1000,
      transcript: r.transcript,
      purpose,
      recognizeMs: Math.round(Math.max(r.ms, this.wallMs() - t0)),
    });
    this.deps.log.debug({ turnId, transcript: r.transcript, accepted: r.accepted }, 'recognised');
    if (r.accepted) this.utterances.delete(utteranceId);
    else {
      // An open question: what the recogniser made of it goes to the answer source with the audio.
      utterance.transcript = r.transcript;
      utterance.confidence = r.confidence;
    }
    this.dispatch({ type: 'recognized', turnId, utteranceId, accepted: r.accepted, intent: r.intent });
  }

  private async respond(turnId: number, intent: Command): Promise<void> {
    const signal = this.turnSignal(turnId);
    const text = await this.track(this.deps.responder.respond(intent, signal));
    const completed = await this.say(turnId, text, 'device');
    this.deps.responder.spoken(signal, completed);
  }

  private async ask(turnId: number, utteranceId: number): Promise<void> {
    const utterance = this.utterances.get(utteranceId);
    this.utterances.delete(utteranceId);
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

  private async say(
    turnId: number,
    text: string | AsyncIterable<string>,
    source: 'device' | 'answer-source' | 'prompt',
    finalText: () => string = () => (typeof text === 'string' ? text : ''),
  ): Promise<boolean> {
    const atMs = Math.round(this.audioMs);
    this.speaking = typeof text === 'string' ? () => text : finalText;
    let result;
    try {
      result = await this.deps.voice.say(text, this.turnSignal(turnId));
    } finally {
      this.speaking = undefined;
    }
    const firstAudio = result.firstAudioAtMs;
    // End of speech -> first audio: the silence that closed the utterance, the recognition, and the
    // wall time from then to the first audio handed to the speaker. On files the audio runs faster
    // than real time, so the parts are added rather than read off one clock.
    const timing = this.turnTiming.get(turnId);
    const firstAudioMs =
      timing === undefined || firstAudio === undefined || source === 'prompt'
        ? undefined
        : timing.silenceWaitMs + timing.recognizeMs + (firstAudio - timing.recognizedWallMs);
    this.deps.onEvent({
      type: 'say',
      atMs,
      turnId,
      text: finalText(),
      source,
      ...(firstAudioMs === undefined ? {} : { firstAudioMs: Math.round(firstAudioMs) }),
      completed: result.completed,
    });
    this.dispatch({ type: 'answer-done', turnId });
    return result.completed;
  }

  private async shutdown(): Promise<void> {
    this.timers.cancelAll();
    for (const c of this.turnAborts.values()) c.abort();
    await Promise.allSettled([...this.pending]);
  }
}
