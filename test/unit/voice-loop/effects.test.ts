import { describe, expect, it } from 'vitest';
import { GlassesError } from '../../../firmware-ts/src/errors.js';
import { SimulatedClock } from '../../../firmware-ts/src/hal/clock.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import type { Recognition } from '../../../firmware-ts/src/speech/recognizer.js';
import type { SayResult } from '../../../firmware-ts/src/tts/voice.js';
import { Effects } from '../../../firmware-ts/src/voice-loop/effects.js';
import { ReplyLatency } from '../../../firmware-ts/src/voice-loop/latency.js';
import {
  DEFAULT_TIMINGS,
  type LoopEvent,
  type TimerName,
} from '../../../firmware-ts/src/voice-loop/machine.js';
import { OwnVoice } from '../../../firmware-ts/src/voice-loop/own-voice.js';
import { OfflineAnswerSource } from '../../../firmware-ts/src/voice-loop/ports.js';
import type { Responder } from '../../../firmware-ts/src/voice-loop/responder.js';
import type { RunEvent } from '../../../firmware-ts/src/voice-loop/run-events.js';
import { Timers } from '../../../firmware-ts/src/voice-loop/timers.js';
import { Utterances } from '../../../firmware-ts/src/voice-loop/utterances.js';
import { Work } from '../../../firmware-ts/src/voice-loop/work.js';

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setImmediate(r));
};

function setUp(options: { recognize?: () => Promise<Recognition> } = {}) {
  const events: RunEvent[] = [];
  const dispatched: LoopEvent[] = [];
  const signals: AbortSignal[] = [];
  const utterances = new Utterances();
  const clock = new SimulatedClock();
  const effects = new Effects({
    endpointer: { begin: () => undefined, cancel: () => undefined },
    recognizer: {
      recognize: (_pcm, signal) => {
        signals.push(signal);
        return (
          options.recognize?.() ??
          Promise.resolve({
            transcript: 'battery',
            accepted: true,
            confidence: 0.9,
            ms: 40,
            intent: { name: 'battery', slots: {} },
          })
        );
      },
    },
    voice: {
      say: (_text, signal): Promise<SayResult> => {
        signals.push(signal);
        return Promise.resolve({ sentences: 1, firstAudioAtMs: 1100, completed: true });
      },
      play: () => Promise.resolve(),
    },
    responder: {
      respond: () => Promise.resolve('Fine.'),
      spoken: () => undefined,
      remember: () => undefined,
    } as unknown as Responder,
    answers: new OfflineAnswerSource(),
    timings: DEFAULT_TIMINGS,
    timers: new Timers<TimerName>(clock),
    utterances,
    latency: new ReplyLatency(),
    ownVoice: new OwnVoice({}),
    work: new Work(),
    audioMs: () => 2000,
    turnId: () => 1,
    wallMs: () => 1000,
    dispatch: (e, heard) => {
      dispatched.push(e);
      if (heard !== undefined) events.push(heard);
    },
    onEvent: (e) => events.push(e),
    log: silentLogger(),
  });
  return { effects, events, dispatched, signals, utterances, clock };
}

describe('Effects', () => {
  it('recognises a kept utterance, reports the intent and hands it to the machine', async () => {
    const { effects, events, dispatched, utterances } = setUp();
    const id = utterances.add(Int16Array.of(1), 300);
    effects.execute({ type: 'recognize', turnId: 1, utteranceId: id, purpose: 'command' });
    await until(() => dispatched.length > 0);
    expect(events).toMatchObject([
      { type: 'intent', atMs: 2000, turnId: 1, name: 'battery', recognizeMs: 40 },
    ]);
    expect(dispatched).toMatchObject([{ type: 'recognized', turnId: 1, utteranceId: id, accepted: true }]);
    expect(utterances.size).toBe(0);
  });

  it('answers a command and reports the reply latency of the turn', async () => {
    const { effects, events, utterances, dispatched } = setUp();
    effects.execute({
      type: 'recognize',
      turnId: 1,
      utteranceId: utterances.add(Int16Array.of(1), 300),
      purpose: 'command',
    });
    await until(() => dispatched.length > 0);
    effects.execute({ type: 'respond', turnId: 1, intent: { name: 'battery', slots: {} } });
    await until(() => dispatched.length > 1);
    // 300 ms of silence + 40 ms of decoding + 100 wall ms from then to the first audio.
    expect(events[1]).toMatchObject({
      type: 'say',
      text: 'Fine.',
      source: 'device',
      firstAudioMs: 440,
      completed: true,
    });
    expect(dispatched[1]).toEqual({ type: 'answer-done', turnId: 1 });
  });

  it('aborts the work of a turn with its signal', async () => {
    const { effects, signals, utterances } = setUp({ recognize: () => new Promise(() => undefined) });
    effects.execute({
      type: 'recognize',
      turnId: 1,
      utteranceId: utterances.add(Int16Array.of(1), 0),
      purpose: 'command',
    });
    await until(() => signals.length > 0);
    effects.execute({ type: 'abort-turn', turnId: 1 });
    expect(signals[0]?.aborted).toBe(true);
  });

  it('reports a failed effect as an error event, and an aborted one not at all', async () => {
    let fail: Error = new GlassesError('E_ABORTED', 'stopped');
    const { effects, events, utterances } = setUp({ recognize: () => Promise.reject(fail) });
    effects.execute({
      type: 'recognize',
      turnId: 1,
      utteranceId: utterances.add(Int16Array.of(1), 0),
      purpose: 'command',
    });
    fail = new Error('decoder crashed');
    effects.execute({
      type: 'recognize',
      turnId: 1,
      utteranceId: utterances.add(Int16Array.of(2), 0),
      purpose: 'command',
    });
    await effects.shutdown();
    expect(events).toEqual([{ type: 'error', atMs: 2000, code: 'E_INTERNAL', message: 'decoder crashed' }]);
  });

  it('fires a started timer as a timeout on the clock, and not once cancelled', async () => {
    const { effects, dispatched, clock } = setUp();
    effects.execute({ type: 'start-timer', timer: 'no-speech', turnId: 1 });
    effects.execute({ type: 'start-timer', timer: 'follow-up', turnId: 1 });
    effects.execute({ type: 'cancel-timer', timer: 'follow-up' });
    await clock.advance(60_000);
    expect(dispatched).toEqual([{ type: 'timeout', timer: 'no-speech', turnId: 1 }]);
  });
});
