/**
 * The voice loop's state machine, driven like the runner drives it: timers on a simulated clock,
 * every other effect recorded. No I/O, no sleeping.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../firmware-ts/src/hal/clock.js';
import {
  DEFAULT_TIMINGS,
  IDLE,
  transition,
  type Effect,
  type LoopEvent,
  type State,
  type TimerName,
} from '../../../firmware-ts/src/voice-loop/machine.js';
import { Timers } from '../../../firmware-ts/src/voice-loop/timers.js';
import type { Intent } from '../../../firmware-ts/src/speech/intents.js';

class Harness {
  state: State = IDLE;
  readonly clock = new SimulatedClock();
  readonly timers = new Timers<TimerName>(this.clock);
  readonly log: Effect[] = [];
  private nextTurn = 1;

  send(event: LoopEvent): Effect[] {
    const { state, effects } = transition(this.state, event, this.nextTurn);
    if (state.name !== 'idle' && state.turnId === this.nextTurn) this.nextTurn++;
    this.state = state;
    for (const e of effects) {
      this.log.push(e);
      if (e.type === 'start-timer') {
        const ms = {
          'no-speech': DEFAULT_TIMINGS.noSpeechTimeoutMs,
          'follow-up': DEFAULT_TIMINGS.followUpMs,
          'utterance-cap': DEFAULT_TIMINGS.utteranceCapMs,
        }[e.timer];
        this.timers.start(e.timer, ms, () =>
          this.send({ type: 'timeout', timer: e.timer, turnId: e.turnId }),
        );
      }
      if (e.type === 'cancel-timer') this.timers.cancel(e.timer);
    }
    return effects;
  }

  get turn(): number {
    if (this.state.name === 'idle') throw new Error('no turn while idle');
    return this.state.turnId;
  }
}

const intent = (name: Intent['name'], slots: Intent['slots'] = {}): Intent => ({ name, slots });
const wake: LoopEvent = { type: 'wake', phrase: 'hey_jarvis', echo: false };
const types = (effects: Effect[]): string[] => effects.map((e) => e.type);

/** Wake, speak, end: the loop is understanding utterance 1 of the current turn. */
function toUnderstanding(h: Harness): void {
  h.send(wake);
  h.send({ type: 'speech-start' });
  h.send({ type: 'utterance', utteranceId: 1 });
}

describe('voice loop state machine', () => {
  it('idle -> attending on the wake phrase: earcon, capture, no-speech timer', () => {
    const h = new Harness();
    expect(types(h.send(wake))).toEqual(['earcon', 'begin-capture', 'start-timer']);
    expect(h.state).toEqual({ name: 'attending', turnId: 1, speaking: false });
  });

  it('runs a whole turn: attending -> understanding -> answering -> followUp -> idle', async () => {
    const h = new Harness();
    toUnderstanding(h);
    expect(h.state.name).toBe('understanding');
    expect(h.log).toContainEqual({ type: 'recognize', turnId: 1, utteranceId: 1, purpose: 'command' });
    const fx = h.send({
      type: 'recognized',
      turnId: 1,
      utteranceId: 1,
      accepted: true,
      intent: intent('time'),
    });
    expect(fx).toContainEqual({ type: 'respond', turnId: 1, intent: intent('time') });
    expect(h.state).toEqual({ name: 'answering', turnId: 1, then: 'followUp' });
    h.send({ type: 'answer-done', turnId: 1 });
    expect(h.state.name).toBe('followUp');
    await h.clock.advance(DEFAULT_TIMINGS.followUpMs - 1);
    expect(h.state.name).toBe('followUp');
    await h.clock.advance(1);
    expect(h.state).toEqual(IDLE);
    expect(h.timers.active).toEqual([]);
  });

  it('in the follow-up window a question needs no wake phrase', async () => {
    const h = new Harness();
    toUnderstanding(h);
    h.send({ type: 'recognized', turnId: 1, utteranceId: 1, accepted: true, intent: intent('time') });
    h.send({ type: 'answer-done', turnId: 1 });
    await h.clock.advance(2000);
    h.send({ type: 'speech-start' });
    expect(h.state).toEqual({ name: 'attending', turnId: 1, speaking: true });
    await h.clock.advance(DEFAULT_TIMINGS.followUpMs); // the follow-up timer was cancelled
    expect(h.state.name).toBe('attending');
    h.send({ type: 'utterance', utteranceId: 2 });
    expect(h.state.name).toBe('understanding');
  });

  it('says so and goes idle when nothing is said after the wake phrase', async () => {
    const h = new Harness();
    h.send(wake);
    await h.clock.advance(DEFAULT_TIMINGS.noSpeechTimeoutMs - 1);
    expect(h.state.name).toBe('attending');
    await h.clock.advance(1);
    expect(h.state).toEqual({ name: 'answering', turnId: 1, then: 'idle' });
    expect(h.log).toContainEqual({ type: 'prompt', turnId: 1, prompt: 'no-speech' });
    h.send({ type: 'answer-done', turnId: 1 });
    expect(h.state).toEqual(IDLE);
  });

  it('speech cancels the no-speech timeout', async () => {
    const h = new Harness();
    h.send(wake);
    await h.clock.advance(1000);
    h.send({ type: 'speech-start' });
    await h.clock.advance(DEFAULT_TIMINGS.noSpeechTimeoutMs);
    expect(h.state).toEqual({ name: 'attending', turnId: 1, speaking: true });
  });

  it('an utterance that never ends is cut off by the cap, said, and the loop goes idle', async () => {
    const h = new Harness();
    h.send(wake);
    h.send({ type: 'speech-start' });
    await h.clock.advance(DEFAULT_TIMINGS.utteranceCapMs);
    expect(h.log).toContainEqual({ type: 'prompt', turnId: 1, prompt: 'too-long' });
    expect(h.log).toContainEqual({ type: 'cancel-capture' });
    h.send({ type: 'answer-done', turnId: 1 });
    expect(h.state).toEqual(IDLE);
    // The endpointer's late utterance is ignored.
    h.send({ type: 'utterance', utteranceId: 9 });
    expect(h.state).toEqual(IDLE);
  });

  it('barge-in: the wake phrase while answering aborts the turn and listens again', () => {
    const h = new Harness();
    toUnderstanding(h);
    h.send({ type: 'recognized', turnId: 1, utteranceId: 1, accepted: true, intent: intent('help') });
    const fx = h.send(wake);
    expect(fx[0]).toEqual({ type: 'abort-turn', turnId: 1 });
    expect(types(fx)).toEqual(['abort-turn', 'cancel-capture', 'earcon', 'begin-capture', 'start-timer']);
    expect(h.state).toEqual({ name: 'attending', turnId: 2, speaking: false });
    // The old turn's playback ending now is stale.
    h.send({ type: 'answer-done', turnId: 1 });
    expect(h.state.name).toBe('attending');
  });

  it('barge-in also works while the answer is still being worked out', () => {
    const h = new Harness();
    toUnderstanding(h);
    const fx = h.send(wake);
    expect(fx[0]).toEqual({ type: 'abort-turn', turnId: 1 });
    // The first turn's recognition comes back after all: ignored.
    h.send({ type: 'recognized', turnId: 1, utteranceId: 1, accepted: true, intent: intent('time') });
    expect(h.state).toEqual({ name: 'attending', turnId: 2, speaking: false });
  });

  it('"stop" heard while answering aborts the answer and goes idle; other speech does not', () => {
    const h = new Harness();
    toUnderstanding(h);
    h.send({ type: 'recognized', turnId: 1, utteranceId: 1, accepted: true, intent: intent('help') });
    const fx = h.send({ type: 'utterance', utteranceId: 2 });
    expect(fx).toContainEqual({ type: 'recognize', turnId: 1, utteranceId: 2, purpose: 'barge-in' });
    h.send({ type: 'recognized', turnId: 1, utteranceId: 2, accepted: false, intent: undefined });
    expect(h.state.name).toBe('answering');
    h.send({ type: 'utterance', utteranceId: 3 });
    const stop = h.send({
      type: 'recognized',
      turnId: 1,
      utteranceId: 3,
      accepted: true,
      intent: intent('stop'),
    });
    expect(stop).toEqual([{ type: 'abort-turn', turnId: 1 }, { type: 'cancel-capture' }]);
    expect(h.state).toEqual(IDLE);
  });

  it('the wake phrase inside the glasses own answer does not wake them', () => {
    const h = new Harness();
    toUnderstanding(h);
    h.send({ type: 'recognized', turnId: 1, utteranceId: 1, accepted: true, intent: intent('help') });
    expect(h.send({ ...wake, echo: true })).toEqual([]);
    expect(h.state).toEqual({ name: 'answering', turnId: 1, then: 'followUp' });
  });

  it('a rejected utterance is an open question for the answer source, never an action', () => {
    const h = new Harness();
    toUnderstanding(h);
    const fx = h.send({
      type: 'recognized',
      turnId: 1,
      utteranceId: 1,
      accepted: false,
      intent: intent('buy', { quantity: 1 }),
    });
    expect(fx).toContainEqual({ type: 'ask', turnId: 1, utteranceId: 1 });
    expect(fx.some((e) => e.type === 'respond')).toBe(false);
  });

  it('"no" / "cancel" is answered like any command, then the loop goes idle; "stop" goes idle at once', () => {
    const h = new Harness();
    toUnderstanding(h);
    h.send({ type: 'recognized', turnId: 1, utteranceId: 1, accepted: true, intent: intent('no') });
    // Answered by whoever owns what "no" answers (an offer): the machine does not answer it itself.
    expect(h.log).toContainEqual({ type: 'respond', turnId: 1, intent: intent('no') });
    expect(h.log.some((e) => e.type === 'prompt')).toBe(false);
    h.send({ type: 'answer-done', turnId: 1 });
    expect(h.state).toEqual(IDLE);
    toUnderstanding(h);
    expect(
      h.send({ type: 'recognized', turnId: 2, utteranceId: 1, accepted: true, intent: intent('stop') }),
    ).toEqual([]);
    expect(h.state).toEqual(IDLE);
  });

  it('the wake phrase heard as the speech being captured starts the turn afresh', () => {
    const h = new Harness();
    toUnderstanding(h);
    h.send({ type: 'recognized', turnId: 1, utteranceId: 1, accepted: true, intent: intent('time') });
    h.send({ type: 'answer-done', turnId: 1 });
    h.send({ type: 'speech-start' }); // in the follow-up window: the wearer says the phrase anyway
    const fx = h.send(wake);
    expect(types(fx)).toEqual(['cancel-timer', 'cancel-capture', 'earcon', 'begin-capture', 'start-timer']);
    expect(h.state).toEqual({ name: 'attending', turnId: 2, speaking: false });
    expect(h.timers.active).toEqual(['no-speech']);
  });

  it('the wake phrase while already listening changes nothing; in follow-up it starts a new turn', () => {
    const h = new Harness();
    h.send(wake);
    expect(h.send(wake)).toEqual([]);
    h.send({ type: 'speech-start' });
    h.send({ type: 'utterance', utteranceId: 1 });
    h.send({ type: 'recognized', turnId: 1, utteranceId: 1, accepted: true, intent: intent('time') });
    h.send({ type: 'answer-done', turnId: 1 });
    const fx = h.send(wake);
    expect(types(fx)).toEqual(['cancel-timer', 'cancel-capture', 'earcon', 'begin-capture', 'start-timer']);
    expect(h.state).toEqual({ name: 'attending', turnId: 2, speaking: false });
  });
});

describe('a failed turn', () => {
  it('is aborted and says the fallback from understanding, then goes idle', () => {
    const h = new Harness();
    h.send({ type: 'wake', phrase: 'hey_quark', echo: false });
    h.send({ type: 'speech-start' });
    h.send({ type: 'utterance', utteranceId: 1 });
    expect(h.state.name).toBe('understanding');
    const effects = h.send({ type: 'failed', turnId: 1 });
    expect(h.state).toEqual({ name: 'answering', turnId: 1, then: 'idle' });
    expect(effects).toContainEqual({ type: 'abort-turn', turnId: 1 });
    expect(effects).toContainEqual({ type: 'prompt', turnId: 1, prompt: 'failed' });
    h.send({ type: 'answer-done', turnId: 1 });
    expect(h.state).toEqual(IDLE);
  });

  it('is ignored once the turn is over, or for an earlier turn', () => {
    const h = new Harness();
    expect(h.send({ type: 'failed', turnId: 1 })).toEqual([]);
    h.send({ type: 'wake', phrase: 'hey_quark', echo: false });
    h.send({ type: 'wake', phrase: 'hey_quark', echo: false });
    expect(h.send({ type: 'failed', turnId: 7 })).toEqual([]);
    expect(h.state.name).toBe('attending');
  });
});
