/**
 * Runs the voice loop: feeds the microphone to the wake detector and the endpointer, turns what they
 * find into events for the state machine, and executes the machine's effects (earcon, recognition,
 * answers, speech, timers), each with the AbortSignal of its turn so barge-in stops them all at once.
 * This class wires the parts and holds the machine's state; each job has its module: loop-input.ts
 * (audio -> machine events), effects.ts, latency.ts (reply latency), own-voice.ts (echo check),
 * file-pace.ts and utterances.ts.
 *
 * On files (`pace: 'file'`) the clock is the microphone's audio time and the runner lets every
 * computation finish before the next chunk, so a run on a file gives the same timeline every time
 * however fast the machine; wall-clock costs are still measured and reported in the events.
 */
import { durationMs, samplesToMs, type AudioChunk } from '../audio/chunk.js';
import type { Clock } from '../hal/clock.js';
import type { Mic } from '../hal/mic.js';
import type { Log } from '../log.js';
import type { CommandRecognizer } from '../speech/recognizer.js';
import type { Voice } from '../tts/voice.js';
import { FRAME_MS } from '../wake/features.js';
import { Effects } from './effects.js';
import { FilePace } from './file-pace.js';
import { ReplyLatency } from './latency.js';
import { LoopInput } from './loop-input.js';
import {
  IDLE,
  transition,
  type Effect,
  type LoopEvent,
  type LoopTimings,
  type State,
  type TimerName,
} from './machine.js';
import { OwnVoice } from './own-voice.js';
import type {
  AnswerSource,
  OrderEvent,
  OrderEvents,
  UtteranceEndpointer,
  WakeWordDetector,
} from './ports.js';
import type { Responder } from './responder.js';
import type { RunEvent } from './run-events.js';
import { Timers } from './timers.js';
import { Utterances } from './utterances.js';
import { Work } from './work.js';

export type { RunEvent } from './run-events.js';

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
  voice: Pick<Voice, 'say' | 'play'> & Partial<Pick<Voice, 'render'>>;
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
  /** Ms of audio fed. */
  private fedMs = 0;
  /** The run's signal has aborted. */
  private stopped = false;
  private readonly input: LoopInput;
  private readonly effects: Effects;
  private readonly latency = new ReplyLatency();
  /** Set on a file run. */
  private readonly filePace: FilePace | undefined;

  constructor(private readonly deps: RunnerDeps) {
    const work = deps.work ?? new Work();
    const utterances = new Utterances();
    const ownVoice = new OwnVoice(deps.phraseWords);
    const turnId = (): number => (this.state.name === 'idle' ? 0 : this.state.turnId);
    const dispatch = (event: LoopEvent, heard?: RunEvent): Effect[] => this.dispatch(event, heard);
    this.filePace = deps.pace === 'file' ? new FilePace(deps.clock, work) : undefined;
    this.input = new LoopInput({
      detector: deps.detector,
      endpointer: deps.endpointer,
      silences: deps.silences,
      ownVoice,
      utterances,
      turnId,
      dispatch,
    });
    this.effects = new Effects({
      endpointer: deps.endpointer,
      recognizer: deps.recognizer,
      voice: deps.voice,
      responder: deps.responder,
      answers: deps.answers,
      timings: deps.timings,
      timers: new Timers<TimerName>(deps.clock),
      utterances,
      latency: this.latency,
      ownVoice,
      work,
      audioMs: () => this.fedMs,
      turnId,
      wallMs: deps.wallMs ?? (() => performance.now()),
      dispatch,
      onEvent: deps.onEvent,
      log: deps.log,
    });
    deps.orderEvents?.subscribe((order) => {
      this.reportOrder(order);
    });
  }

  get current(): State {
    return this.state;
  }

  /** The loop's clock: ms of audio fed so far, the time of every run event. */
  get audioMs(): number {
    return this.fedMs;
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
      this.effects.stop();
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    // Live, the glasses listen at once; on files the fallback is ready before the first chunk, so a
    // run gives the same timeline every time.
    const preparing = this.effects.prepare(signal);
    if (this.deps.pace === 'file') await preparing;
    try {
      for await (const chunk of this.deps.mic.chunks(signal)) {
        for (const piece of framePieces(chunk)) {
          if (this.stopped) break;
          await this.feed(piece);
        }
        if (this.stopped) break;
      }
      // Let the loop finish what it started: silence until it is idle with nothing playing.
      await this.filePace?.drain(
        (chunk) => this.feed(chunk),
        () => !this.stopped && (this.state.name !== 'idle' || this.effects.pending > 0),
        () => this.fedMs,
      );
    } finally {
      signal.removeEventListener('abort', stop);
      await this.effects.shutdown();
    }
  }

  /** Feed at most one wake frame (see framePieces). */
  private async feed(chunk: AudioChunk): Promise<void> {
    const start = this.fedMs;
    this.fedMs = start + durationMs(chunk);
    await this.filePace?.advance(durationMs(chunk));
    await this.input.push({ ...chunk, tsMs: start });
    await this.filePace?.settle(() => this.stopped);
  }

  /** Reports an order placed or queued by the orders port, at the loop's audio time. */
  reportOrder(order: OrderEvent): void {
    this.deps.onEvent({ type: 'order', atMs: Math.round(this.fedMs), ...order });
  }

  /**
   * Hands `event` to the machine. The timeline stays in the order things happened: an answer the
   * event cuts short is reported first, then `heard` (what the event is), then the state change.
   */
  private dispatch(event: LoopEvent, heard?: RunEvent): Effect[] {
    const before = this.state;
    const { state, effects } = transition(before, event, this.nextTurnId);
    if (state.name !== 'idle' && state.turnId === this.nextTurnId) this.nextTurnId++;
    this.state = state;
    // Cut when what cuts it was heard (a wake phrase is found within the frame just fed).
    const cutAtMs = heard?.atMs ?? this.fedMs;
    for (const effect of effects)
      if (effect.type === 'abort-turn') this.effects.cutOff(effect.turnId, cutAtMs);
    if (heard !== undefined) this.deps.onEvent(heard);
    if (
      state.name !== before.name ||
      (state.name !== 'idle' && before.name !== 'idle' && state.turnId !== before.turnId)
    ) {
      this.deps.onEvent({
        type: 'state',
        atMs: Math.round(this.fedMs),
        from: before.name,
        to: state.name,
        ...(state.name === 'idle' ? {} : { turnId: state.turnId }),
      });
    }
    for (const effect of effects) this.effects.execute(effect);
    // After the effects, which may abort the turn that just ended: its per-turn state goes now.
    if (before.name !== 'idle' && (state.name === 'idle' || state.turnId !== before.turnId)) {
      this.latency.endTurn(before.turnId);
      this.effects.endTurn(before.turnId);
    }
    return effects;
  }
}
