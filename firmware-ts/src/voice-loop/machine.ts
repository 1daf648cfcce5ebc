/**
 * The voice loop as a pure state machine: `transition(state, event) -> { state, effects }`.
 * No I/O and no clock here; the runner executes the effects and feeds back what happens.
 *
 *   idle --wake--> attending --utterance--> understanding --recognized--> answering
 *     ^                |                                                    |
 *     |            no speech: say so                                  answer done
 *     |                v                                                    v
 *     +------------ (idle) <------------- follow-up timeout ---------- followUp
 *                                          (speech in followUp: attending, no wake phrase needed)
 *
 * Barge-in: the wake phrase while understanding or answering aborts the turn and starts a new one;
 * "stop" heard while answering aborts the turn and goes idle. Events of an earlier turn are ignored.
 * A turn whose work failed (recognition, an answer, synthesis, playback) is aborted and ends in a
 * short spoken fallback, then idle: the wearer always hears that it did not work.
 */
import type { Intent, IntentName } from '../speech/intents.js';

export interface LoopTimings {
  /** After the wake phrase, how long to wait for speech before saying so and going idle. */
  noSpeechTimeoutMs: number;
  /** After an answer, how long the wearer may ask again without the wake phrase. */
  followUpMs: number;
  /** Backstop for an utterance that never ends (the endpointer caps it first). */
  utteranceCapMs: number;
}

export const DEFAULT_TIMINGS: LoopTimings = {
  noSpeechTimeoutMs: 6000,
  followUpMs: 5000,
  utteranceCapMs: 12_000,
};

export type State =
  | { name: 'idle' }
  | { name: 'attending'; turnId: number; speaking: boolean }
  | { name: 'understanding'; turnId: number }
  | { name: 'answering'; turnId: number; then: 'followUp' | 'idle' }
  | { name: 'followUp'; turnId: number };

export type TimerName = 'no-speech' | 'follow-up' | 'utterance-cap';
const TIMERS: readonly TimerName[] = ['no-speech', 'follow-up', 'utterance-cap'];

export type LoopEvent =
  /** `echo`: the runner found the phrase in the glasses' own reply playing at that moment. */
  | { type: 'wake'; phrase: string; echo: boolean }
  | { type: 'speech-start' }
  | { type: 'utterance'; utteranceId: number }
  | { type: 'recognized'; turnId: number; utteranceId: number; accepted: boolean; intent: Intent | undefined }
  | { type: 'answer-done'; turnId: number }
  | { type: 'timeout'; timer: TimerName; turnId: number }
  /** Something the turn was doing failed (the runner has reported the error). */
  | { type: 'failed'; turnId: number };

/** Fixed things the loop says on its own. The runner turns them into words. */
export type Prompt = 'no-speech' | 'too-long' | 'failed';

/**
 * An accepted intent the responder answers: every one but "stop", whose only handler is this machine
 * (it ends the turn). "yes" and "no" are answered like any other command, by whoever owns the
 * dialogue they answer, so that nothing here has to know what is pending.
 */
export type Command = Intent & { readonly name: Exclude<IntentName, 'stop'> };

function isCommand(intent: Intent): intent is Command {
  return intent.name !== 'stop';
}

export type Effect =
  | { type: 'earcon' }
  | { type: 'begin-capture' }
  | { type: 'cancel-capture' }
  | { type: 'start-timer'; timer: TimerName; turnId: number }
  | { type: 'cancel-timer'; timer: TimerName }
  | { type: 'recognize'; turnId: number; utteranceId: number; purpose: 'command' | 'barge-in' }
  /** An accepted command: answered on the device, through the vision/orders ports or the offer dialogue. */
  | { type: 'respond'; turnId: number; intent: Command }
  /** A rejected utterance is an open question for the AnswerSource. */
  | { type: 'ask'; turnId: number; utteranceId: number }
  | { type: 'prompt'; turnId: number; prompt: Prompt }
  /** Abort everything the turn still has running: recognition, the answer, synthesis, playback. */
  | { type: 'abort-turn'; turnId: number };

export interface Transition {
  state: State;
  effects: Effect[];
}

export const IDLE: State = { name: 'idle' };

function turnOf(state: State): number | undefined {
  return state.name === 'idle' ? undefined : state.turnId;
}

/** A new turn: chime, listen, and give the wearer a few seconds to start speaking. */
function startTurn(turnId: number, before: Effect[] = []): Transition {
  return {
    state: { name: 'attending', turnId, speaking: false },
    effects: [
      ...before,
      { type: 'earcon' },
      { type: 'begin-capture' },
      { type: 'start-timer', timer: 'no-speech', turnId },
    ],
  };
}

export function transition(state: State, event: LoopEvent, nextTurnId: number): Transition {
  const stay: Transition = { state, effects: [] };
  const turn = turnOf(state);
  // Anything that names an earlier turn arrived too late to matter.
  if ('turnId' in event && event.turnId !== turn) return stay;

  switch (event.type) {
    case 'wake':
      // The glasses hearing themselves say the phrase is not the wearer calling.
      if (event.echo) return stay;
      switch (state.name) {
        case 'idle':
          return startTurn(nextTurnId);
        case 'followUp':
          return startTurn(nextTurnId, [
            { type: 'cancel-timer', timer: 'follow-up' },
            { type: 'cancel-capture' },
          ]);
        case 'understanding':
        case 'answering':
          // Barge-in: the wearer wants to start over.
          return startTurn(nextTurnId, [
            { type: 'abort-turn', turnId: state.turnId },
            { type: 'cancel-capture' },
          ]);
        case 'attending':
          // Heard while speech is being captured (in the follow-up window, the wearer may start with
          // the phrase anyway): what was captured is the phrase, so start the turn afresh.
          if (state.speaking) {
            return startTurn(nextTurnId, [
              { type: 'cancel-timer', timer: 'utterance-cap' },
              { type: 'cancel-capture' },
            ]);
          }
          // Said again before any speech: we are already listening.
          return stay;
      }
      break;

    case 'speech-start':
      if (state.name === 'attending' && !state.speaking) {
        return {
          state: { ...state, speaking: true },
          effects: [
            { type: 'cancel-timer', timer: 'no-speech' },
            { type: 'start-timer', timer: 'utterance-cap', turnId: state.turnId },
          ],
        };
      }
      if (state.name === 'followUp') {
        return {
          state: { name: 'attending', turnId: state.turnId, speaking: true },
          effects: [
            { type: 'cancel-timer', timer: 'follow-up' },
            { type: 'start-timer', timer: 'utterance-cap', turnId: state.turnId },
          ],
        };
      }
      return stay;

    case 'utterance':
      if (state.name === 'attending' || state.name === 'followUp') {
        return {
          state: { name: 'understanding', turnId: state.turnId },
          effects: [
            { type: 'cancel-timer', timer: state.name === 'followUp' ? 'follow-up' : 'utterance-cap' },
            ...(state.name === 'attending' ? [{ type: 'cancel-timer', timer: 'no-speech' } as const] : []),
            { type: 'recognize', turnId: state.turnId, utteranceId: event.utteranceId, purpose: 'command' },
          ],
        };
      }
      if (state.name === 'answering') {
        // Heard while speaking: only "stop" counts, so check it and listen on.
        return {
          state,
          effects: [
            { type: 'recognize', turnId: state.turnId, utteranceId: event.utteranceId, purpose: 'barge-in' },
            { type: 'begin-capture' },
          ],
        };
      }
      return stay;

    case 'recognized':
      if (state.name === 'answering') {
        if (event.accepted && event.intent?.name === 'stop') {
          return {
            state: IDLE,
            effects: [{ type: 'abort-turn', turnId: state.turnId }, { type: 'cancel-capture' }],
          };
        }
        return stay;
      }
      if (state.name !== 'understanding') return stay;
      if (!event.accepted || event.intent === undefined) {
        return answering(state.turnId, 'followUp', {
          type: 'ask',
          turnId: state.turnId,
          utteranceId: event.utteranceId,
        });
      }
      if (!isCommand(event.intent)) return { state: IDLE, effects: [] };
      // After "no" the wearer is done: no follow-up window to listen in.
      return answering(state.turnId, event.intent.name === 'no' ? 'idle' : 'followUp', {
        type: 'respond',
        turnId: state.turnId,
        intent: event.intent,
      });

    case 'answer-done':
      if (state.name !== 'answering') return stay;
      if (state.then === 'idle') return { state: IDLE, effects: [{ type: 'cancel-capture' }] };
      return {
        state: { name: 'followUp', turnId: state.turnId },
        effects: [
          { type: 'begin-capture' },
          { type: 'start-timer', timer: 'follow-up', turnId: state.turnId },
        ],
      };

    case 'timeout':
      if (event.timer === 'no-speech' && state.name === 'attending' && !state.speaking) {
        return answering(
          state.turnId,
          'idle',
          { type: 'prompt', turnId: state.turnId, prompt: 'no-speech' },
          [{ type: 'cancel-capture' }],
        );
      }
      if (event.timer === 'utterance-cap' && state.name === 'attending') {
        return answering(state.turnId, 'idle', { type: 'prompt', turnId: state.turnId, prompt: 'too-long' }, [
          { type: 'cancel-capture' },
        ]);
      }
      if (event.timer === 'follow-up' && state.name === 'followUp') {
        return { state: IDLE, effects: [{ type: 'cancel-capture' }] };
      }
      return stay;

    case 'failed':
      if (state.name === 'idle') return stay;
      // Whatever else the turn had running stops; the fallback is said, then idle.
      return answering(state.turnId, 'idle', { type: 'prompt', turnId: state.turnId, prompt: 'failed' }, [
        { type: 'abort-turn', turnId: state.turnId },
        { type: 'cancel-capture' },
        ...TIMERS.map((timer) => ({ type: 'cancel-timer', timer }) as const),
      ]);
  }
  return stay;
}

/** Speak, and listen meanwhile so that "stop" can interrupt. */
function answering(
  turnId: number,
  then: 'followUp' | 'idle',
  speak: Effect,
  before: Effect[] = [],
): Transition {
  return {
    state: { name: 'answering', turnId, then },
    effects: [...before, speak, { type: 'begin-capture' }],
  };
}
