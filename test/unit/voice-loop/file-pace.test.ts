import { describe, expect, it } from 'vitest';
import type { AudioChunk } from '../../../firmware-ts/src/audio/chunk.js';
import { SimulatedClock } from '../../../firmware-ts/src/hal/clock.js';
import { DRAIN_AUDIO_MS, FilePace } from '../../../firmware-ts/src/voice-loop/file-pace.js';
import { Work } from '../../../firmware-ts/src/voice-loop/work.js';

describe('FilePace', () => {
  it('moves a simulated clock with the audio fed', async () => {
    const clock = new SimulatedClock();
    await new FilePace(clock, new Work()).advance(80);
    expect(clock.now()).toBe(80);
  });

  it('settles only once the work in flight has finished', async () => {
    const work = new Work();
    const pace = new FilePace(new SimulatedClock(), work);
    let finished = false;
    void work.track(
      (async () => {
        for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
        finished = true;
      })(),
    );
    await pace.settle(() => false);
    expect(finished).toBe(true);
  });

  it('does not wait for work once the run has stopped', async () => {
    const work = new Work();
    void work.track(new Promise(() => undefined));
    await new FilePace(new SimulatedClock(), work).settle(() => true);
  });

  it('drains with frames of silence while needed, for at most DRAIN_AUDIO_MS', async () => {
    const pace = new FilePace(new SimulatedClock(), new Work());
    const fed: AudioChunk[] = [];
    let at = 1000;
    await pace.drain(
      (c) => {
        fed.push(c);
        at += 80;
        return Promise.resolve();
      },
      () => fed.length < 3,
      () => at,
    );
    expect(fed.map((c) => [c.tsMs, c.pcm.length, c.pcm.some((s) => s !== 0)])).toEqual([
      [1000, 1280, false],
      [1080, 1280, false],
      [1160, 1280, false],
    ]);
    let n = 0;
    await pace.drain(
      () => {
        n++;
        return Promise.resolve();
      },
      () => true,
      () => 0,
    );
    expect(n).toBe(DRAIN_AUDIO_MS / 80);
  });
});
