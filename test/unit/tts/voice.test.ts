import { describe, expect, it } from 'vitest';
import type { AudioChunk } from '../../../firmware-ts/src/audio/chunk.js';
import { GlassesError, isGlassesError } from '../../../firmware-ts/src/errors.js';
import { SimulatedClock, type Clock } from '../../../firmware-ts/src/hal/clock.js';
import type { Speaker } from '../../../firmware-ts/src/hal/speaker.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import type { Synthesizer } from '../../../firmware-ts/src/tts/espeak.js';
import { Voice } from '../../../firmware-ts/src/tts/voice.js';

const RATE = 16000;

/**
 * Speaks sentence k (counting from 1) as `audioMs` of the constant 1000 * k, after `synthMs` of clock
 * time; "FAIL" fails. Logs what it does on the clock.
 */
/** Keeps every sample it is given, so a test can look at what was played. */
class RecordingSpeaker implements Speaker {
  readonly name = 'recording';
  private readonly parts: Int16Array[] = [];

  async play(audio: AsyncIterable<AudioChunk> | Iterable<AudioChunk>): Promise<void> {
    for await (const chunk of audio) this.parts.push(chunk.pcm.slice());
  }

  played(): Int16Array {
    return Int16Array.from(this.parts.flatMap((p) => Array.from(p)));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

class FakeSynthesizer implements Synthesizer {
  private count = 0;
  constructor(
    private readonly clock: Clock,
    private readonly events: string[],
    private readonly synthMs = 50,
    private readonly audioMs = 300,
  ) {}

  async synthesize(text: string, signal: AbortSignal): Promise<AudioChunk> {
    const k = ++this.count;
    this.events.push(`synth-start:${k}@${this.clock.now()}`);
    try {
      await this.clock.sleep(this.synthMs, signal);
    } catch (err) {
      this.events.push(`synth-aborted:${k}@${this.clock.now()}`);
      throw err;
    }
    if (text === 'FAIL') throw new GlassesError('E_TTS_FAILED', 'espeak-ng: broken');
    this.events.push(`synth-end:${k}@${this.clock.now()}`);
    const pcm = new Int16Array((RATE * this.audioMs) / 1000).fill(1000 * k);
    return { pcm, sampleRateHz: RATE, channels: 1, tsMs: 0 };
  }
}

/**
 * SimulatedClock leaves its abort listener on the signal after a sleep ends; one signal per sleep
 * keeps a long utterance from piling them up on the caller's signal.
 */
async function sleepFor(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  const own = new AbortController();
  const forward = (): void => {
    own.abort();
  };
  signal.addEventListener('abort', forward, { once: true });
  if (signal.aborted) own.abort();
  try {
    await clock.sleep(ms, own.signal);
  } finally {
    signal.removeEventListener('abort', forward);
  }
}

/** Plays in clock time, like a real device, and logs when each sentence starts and ends playing. */
class ClockSpeaker implements Speaker {
  readonly name = 'clock';
  readonly samples: number[] = [];
  playCalls = 0;
  constructor(
    private readonly clock: Clock,
    private readonly events: string[],
  ) {}

  async play(audio: AsyncIterable<AudioChunk> | Iterable<AudioChunk>, signal: AbortSignal): Promise<void> {
    this.playCalls++;
    let current: number | undefined;
    for await (const chunk of audio) {
      if (signal.aborted) throw new GlassesError('E_ABORTED', 'stopped');
      const value = chunk.pcm[0] ?? 0;
      if (value !== current) {
        if (current !== undefined) this.events.push(`play-end:${current}@${this.clock.now()}`);
        this.events.push(`play-start:${value}@${this.clock.now()}`);
        current = value;
      }
      this.samples.push(...chunk.pcm);
      await sleepFor(this.clock, (chunk.pcm.length / chunk.sampleRateHz) * 1000, signal);
    }
    if (current !== undefined) this.events.push(`play-end:${current}@${this.clock.now()}`);
  }

  async close(): Promise<void> {
    // Nothing to release.
  }
}

/** Moves the simulated clock until `p` settles, letting everything due run at each step. */
async function drive<T>(clock: SimulatedClock, p: Promise<T>, stepMs = 10): Promise<T> {
  let settled = false;
  const watched = p.finally(() => {
    settled = true;
  });
  watched.catch(() => undefined);
  // A function: TypeScript would keep the loop condition's narrowing of `settled` across the await.
  const isSettled = (): boolean => settled;
  for (let i = 0; i < 10_000 && !isSettled(); i++) {
    await new Promise((r) => setImmediate(r));
    if (!isSettled()) await clock.advance(stepMs);
  }
  return watched;
}

function setup(synthMs = 50, audioMs = 300) {
  const clock = new SimulatedClock();
  const events: string[] = [];
  const synthesizer = new FakeSynthesizer(clock, events, synthMs, audioMs);
  const speaker = new ClockSpeaker(clock, events);
  const voice = new Voice({ synthesizer, speaker, clock, log: silentLogger() });
  return { clock, events, speaker, voice };
}

async function* slowText(clock: Clock, parts: readonly [string, number][]): AsyncGenerator<string> {
  for (const [text, afterMs] of parts) {
    await clock.sleep(afterMs);
    yield text;
  }
}

describe('Voice.say', () => {
  it('synthesises the next sentence while the current one plays, in one continuous stream', async () => {
    const { clock, events, speaker, voice } = setup();
    const result = await drive(clock, voice.say('One. Two. Three.', new AbortController().signal));
    expect(result).toEqual({ sentences: 3, firstAudioAtMs: 50, completed: true });
    // Synthesis of sentence two starts (at 50 ms) as soon as sentence one is handed over, long before
    // sentence one has finished playing (350 ms). Events at the same instant may come in either order.
    expect([...events].sort()).toEqual(
      [
        'synth-start:1@0',
        'synth-end:1@50',
        'play-start:600@50',
        'synth-start:2@50',
        'synth-end:2@100',
        'play-end:600@350',
        'play-start:1200@350',
        'synth-start:3@350',
        'synth-end:3@400',
        'play-end:1200@650',
        'play-start:1800@650',
        'play-end:1800@950',
      ].sort(),
    );
    // One play call, no gap: every sample of the three sentences, back to back.
    expect(speaker.playCalls).toBe(1);
    expect(speaker.samples).toHaveLength(3 * 4800);
  });

  it('starts speaking the first sentence before the rest of the text has arrived', async () => {
    const { clock, events, voice } = setup();
    const text = slowText(clock, [
      ['Your train', 0],
      [' leaves at 3.15. The', 20],
      [' next one', 1000],
      [' is at 4.', 10],
    ]);
    const result = await drive(clock, voice.say(text, new AbortController().signal));
    expect(result).toEqual({ sentences: 2, firstAudioAtMs: 70, completed: true });
    // Sentence one played from 70 ms; sentence two could only start once its full stop arrived.
    expect(events).toContain('play-start:600@70');
    expect(events).toContain('synth-start:2@1030');
    expect(events).toContain('play-start:1200@1080');
  });

  it('applies the volume to every sample', async () => {
    const clock = new SimulatedClock();
    const speaker = new RecordingSpeaker();
    const synthesizer = new FakeSynthesizer(clock, [], 0, 100);
    const voice = new Voice({ synthesizer, speaker, clock, log: silentLogger() });
    expect(voice.volume).toBe(0.6);
    await drive(clock, voice.say('One.', new AbortController().signal));
    expect(new Set(speaker.played())).toEqual(new Set([600]));
    expect(voice.louder()).toBe(0.8);
    await drive(clock, voice.say('Two.', new AbortController().signal));
    expect(new Set(speaker.played().subarray(1600))).toEqual(new Set([1600]));
  });

  it('stops at once when aborted: nothing more is synthesised or played', async () => {
    const { clock, events, speaker, voice } = setup();
    const controller = new AbortController();
    const said = voice.say('One. Two. Three.', controller.signal);
    void clock.sleep(200).then(() => {
      controller.abort();
    });
    const result = await drive(clock, said);
    expect(result).toEqual({ sentences: 1, firstAudioAtMs: 50, completed: false });
    const playedAtAbort = speaker.samples.length;
    // 150 ms of sentence one was playing (chunks are 100 ms): at most two chunks went out.
    expect(playedAtAbort).toBeLessThanOrEqual(3200);
    const eventsAtAbort = [...events];
    await clock.advance(5000);
    expect(speaker.samples).toHaveLength(playedAtAbort);
    expect(events).toEqual(eventsAtAbort);
    expect(events.some((e) => e.startsWith('synth-start:3'))).toBe(false);
    expect(events.some((e) => e.startsWith('play-start:1200'))).toBe(false);
  });

  it('aborts a synthesis in flight', async () => {
    const { clock, events, voice } = setup(100);
    const controller = new AbortController();
    const said = voice.say('One. Two.', controller.signal);
    void clock.sleep(130).then(() => {
      controller.abort();
    });
    const result = await drive(clock, said);
    expect(result.completed).toBe(false);
    expect(events).toContain('synth-aborted:2@130');
    expect(clock.pendingSleepers).toBe(0);
  });

  it('resolves promptly on abort even when the text source has stalled', async () => {
    const { clock, voice } = setup();
    const controller = new AbortController();
    const stalled = (async function* () {
      yield 'Hello. The';
      await new Promise(() => undefined);
      yield 'never';
    })();
    const said = voice.say(stalled, controller.signal);
    void clock.sleep(1000).then(() => {
      controller.abort();
    });
    const result = await drive(clock, said);
    expect(result).toEqual({ sentences: 1, firstAudioAtMs: 50, completed: false });
    expect(clock.now()).toBeLessThan(1100);
  });

  it('plays nothing when the signal has already aborted', async () => {
    const { clock, events, voice } = setup();
    const controller = new AbortController();
    controller.abort();
    const result = await drive(clock, voice.say('One.', controller.signal));
    expect(result).toEqual({ sentences: 0, firstAudioAtMs: undefined, completed: false });
    expect(events).toEqual([]);
  });

  it('says nothing, completed, for empty text', async () => {
    const { clock, speaker, voice } = setup();
    const result = await drive(clock, voice.say('  \n ', new AbortController().signal));
    expect(result).toEqual({ sentences: 0, firstAudioAtMs: undefined, completed: true });
    expect(speaker.samples).toHaveLength(0);
  });

  it('plays what was handed over, then rejects, when synthesis fails', async () => {
    const { clock, events, voice } = setup();
    const said = voice.say('One. FAIL', new AbortController().signal);
    await expect(drive(clock, said)).rejects.toSatisfy((e) => isGlassesError(e, 'E_TTS_FAILED'));
    expect(events).toContain('play-end:600@350');
  });

  it('rejects with the text source error', async () => {
    const { clock, voice } = setup();
    const broken = (async function* () {
      yield 'Hello';
      await Promise.resolve();
      throw new Error('stream reset');
    })();
    await expect(drive(clock, voice.say(broken, new AbortController().signal))).rejects.toThrow(
      'stream reset',
    );
  });
});

describe('Voice volume', () => {
  it('steps by 0.2 between 0.2 and 1.0', () => {
    const { voice } = setup();
    expect([voice.louder(), voice.louder(), voice.louder()]).toEqual([0.8, 1, 1]);
    expect(voice.volume).toBe(1);
    expect([voice.quieter(), voice.quieter(), voice.quieter(), voice.quieter(), voice.quieter()]).toEqual([
      0.8, 0.6, 0.4, 0.2, 0.2,
    ]);
    expect(voice.volume).toBe(0.2);
  });

  it('plays a ready chunk (the earcon) at the current volume, full scale without wrapping', async () => {
    const { clock, voice, speaker } = setup();
    const chunk: AudioChunk = {
      pcm: Int16Array.from([1000, -1000, 32767, -32768]),
      sampleRateHz: RATE,
      channels: 1,
      tsMs: 0,
    };
    await drive(clock, voice.play(chunk, new AbortController().signal));
    expect(speaker.samples).toEqual([600, -600, 19660, -19661]);
    voice.louder();
    voice.louder();
    await drive(clock, voice.play(chunk, new AbortController().signal));
    expect(speaker.samples.slice(4)).toEqual([1000, -1000, 32767, -32768]);
  });

  it('play resolves, not rejects, when aborted', async () => {
    const { clock, voice, speaker } = setup();
    const controller = new AbortController();
    controller.abort();
    const chunk: AudioChunk = { pcm: new Int16Array(160), sampleRateHz: RATE, channels: 1, tsMs: 0 };
    await expect(drive(clock, voice.play(chunk, controller.signal))).resolves.toBeUndefined();
    expect(speaker.samples).toHaveLength(0);
  });
});
