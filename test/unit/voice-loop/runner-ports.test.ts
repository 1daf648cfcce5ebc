/**
 * The runner takes its wake detector and endpointer as ports (voice-loop/ports.ts): here both are
 * fakes, with no model behind them, and a turn still goes wake -> capture -> command -> answer. Order
 * events reach the run through the channel the composition root hands to both sides.
 */
import { describe, expect, it } from 'vitest';
import type { AudioChunk } from '../../../firmware-ts/src/audio/chunk.js';
import { SimulatedClock } from '../../../firmware-ts/src/hal/clock.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import type { CommandRecognizer } from '../../../firmware-ts/src/speech/recognizer.js';
import { DEFAULT_TIMINGS } from '../../../firmware-ts/src/voice-loop/machine.js';
import { OfferDialogue } from '../../../firmware-ts/src/voice-loop/offer-dialogue.js';
import {
  NoOrders,
  NoVision,
  OfflineAnswerSource,
  OrderEvents,
  type EndpointEvent,
  type UtteranceEndpointer,
  type WakeDetection,
  type WakeWordDetector,
} from '../../../firmware-ts/src/voice-loop/ports.js';
import { Responder } from '../../../firmware-ts/src/voice-loop/responder.js';
import { VoiceLoopRunner, type RunEvent } from '../../../firmware-ts/src/voice-loop/runner.js';

const CHUNK = 1280; // 80 ms at 16 kHz
const chunkAt = (i: number): AudioChunk => ({
  pcm: new Int16Array(CHUNK),
  sampleRateHz: 16000,
  channels: 1,
  tsMs: i * 80,
});

/** Hears the wake phrase in the chunk that starts at `atMs`. */
class FakeWake implements WakeWordDetector {
  constructor(private readonly atMs: number) {}
  push(chunk: AudioChunk): Promise<WakeDetection[]> {
    return Promise.resolve(
      chunk.tsMs === this.atMs ? [{ phrase: 'hey_quark', score: 0.9, atMs: chunk.tsMs + 80 }] : [],
    );
  }
}

/** One utterance, `afterMs` of audio after the first begin(); silence in any later capture. */
class FakeEndpointer implements UtteranceEndpointer {
  readonly begun: number[] = [];
  private from: number | undefined;
  private done = false;
  constructor(private readonly afterMs: number) {}
  begin(atMs: number): void {
    this.begun.push(atMs);
    this.from = atMs;
  }
  cancel(): void {
    this.from = undefined;
  }
  push(chunk: AudioChunk): Promise<EndpointEvent[]> {
    if (this.done || this.from === undefined || chunk.tsMs < this.from + this.afterMs)
      return Promise.resolve([]);
    const startMs = this.from;
    this.done = true;
    return Promise.resolve([
      { type: 'utterance', pcm: new Int16Array(1600), startMs, endMs: chunk.tsMs, reason: 'long-silence' },
    ]);
  }
}

describe('VoiceLoopRunner on its ports', () => {
  it('runs a turn with a fake wake detector and endpointer, and reports order events from the channel', async () => {
    const clock = new SimulatedClock();
    const events: RunEvent[] = [];
    const said: string[] = [];
    const orderEvents = new OrderEvents();
    const endpointer = new FakeEndpointer(400);
    const recognizer: CommandRecognizer = {
      recognize: () =>
        Promise.resolve({
          transcript: 'what time is it',
          intent: { name: 'time', slots: {} },
          accepted: true,
          confidence: 0.9,
          ms: 1,
        }),
    };
    const runner = new VoiceLoopRunner({
      mic: {
        name: 'fake',
        async *chunks() {
          for (let i = 0; i < 40; i++) {
            yield chunkAt(i);
            // An order settles while the loop runs (the outbox sender, say).
            if (i === 30) orderEvents.emit({ orderId: 'ord_1', status: 'placed', state: 'placed' });
            await Promise.resolve();
          }
        },
      },
      clock,
      pace: 'file',
      detector: new FakeWake(800),
      phraseWords: { hey_quark: 'hey quark' },
      endpointer,
      silences: { shortMs: 350, longMs: 900 },
      recognizer,
      voice: {
        say: async (text) => {
          let all = '';
          if (typeof text === 'string') all = text;
          else for await (const piece of text) all += piece;
          said.push(all);
          return { sentences: 1, firstAudioAtMs: clock.now(), completed: true };
        },
        play: () => Promise.resolve(),
      },
      responder: new Responder({
        now: () => new Date(2024, 0, 1, 9, 30),
        battery: { percent: () => Promise.resolve(undefined) },
        volume: { louder: () => 1, quieter: () => 0 },
        vision: new NoVision(),
        orders: new NoOrders(),
        offers: new OfferDialogue({ clock, confirmWindowMs: 5000, log: silentLogger() }),
      }),
      answers: new OfflineAnswerSource(),
      timings: DEFAULT_TIMINGS,
      onEvent: (e) => events.push(e),
      log: silentLogger(),
      orderEvents,
    });
    await runner.run(new AbortController().signal);

    expect(events.filter((e) => e.type === 'wake').map((e) => e.atMs)).toEqual([880]);
    expect(endpointer.begun[0]).toBeGreaterThanOrEqual(880);
    expect(events.find((e) => e.type === 'intent')).toMatchObject({ name: 'time', accepted: true });
    expect(said).toEqual([expect.stringMatching(/^It's 9 30 AM\.$/) as string]);
    const order = events.find((e) => e.type === 'order');
    expect(order).toMatchObject({ orderId: 'ord_1', state: 'placed', atMs: 31 * 80 });
  });
});
