import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWavAs16kMono, writeWav } from '../../../firmware-ts/src/audio/wav.js';
import { SimulatedClock } from '../../../firmware-ts/src/hal/clock.js';
import { WavFileMic } from '../../../firmware-ts/src/hal/mic.js';
import { WavFileSpeaker } from '../../../firmware-ts/src/hal/speaker.js';
import { isGlassesError } from '../../../firmware-ts/src/errors.js';

async function wavOf(samples: number): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'mic-')), 'in.wav');
  await writeWav(
    file,
    Int16Array.from({ length: samples }, (_, i) => i % 1000),
    16000,
  );
  return file;
}

describe('WavFileMic', () => {
  it('replays as fast as possible, in chunks, with timestamps', async () => {
    const mic = new WavFileMic({
      file: await wavOf(5000),
      pace: 'fast',
      chunkSamples: 2048,
      clock: new SimulatedClock(),
    });
    const chunks = [];
    for await (const c of mic.chunks(new AbortController().signal)) chunks.push(c);
    expect(chunks.map((c) => c.pcm.length)).toEqual([2048, 2048, 904]);
    expect(chunks.map((c) => c.tsMs)).toEqual([0, 128, 256]);
  });

  it('at real pace delivers each chunk once its audio would have been heard', async () => {
    const clock = new SimulatedClock();
    const mic = new WavFileMic({ file: await wavOf(3200), pace: 'realtime', chunkSamples: 1600, clock });
    const seen: number[] = [];
    const done = (async () => {
      for await (const _ of mic.chunks(new AbortController().signal)) seen.push(clock.now());
    })();
    // Let the file be read before time moves.
    await new Promise((r) => setTimeout(r, 50));
    await clock.advance(99);
    expect(seen).toEqual([]);
    await clock.advance(1);
    await clock.advance(100);
    await done;
    expect(seen).toEqual([100, 200]);
  });

  it('stops when its signal aborts', async () => {
    const controller = new AbortController();
    const mic = new WavFileMic({
      file: await wavOf(16000),
      pace: 'fast',
      chunkSamples: 1000,
      clock: new SimulatedClock(),
    });
    let n = 0;
    for await (const _ of mic.chunks(controller.signal)) {
      if (++n === 3) controller.abort();
    }
    expect(n).toBe(3);
  });
});

describe('WavFileSpeaker', () => {
  it('writes everything played into one WAV on close', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'spk-')), 'out.wav');
    const speaker = new WavFileSpeaker(file);
    const signal = new AbortController().signal;
    await speaker.play(
      [{ pcm: Int16Array.from([1, 2, 3]), sampleRateHz: 16000, channels: 1, tsMs: 0 }],
      signal,
    );
    await speaker.play([{ pcm: Int16Array.from([4, 5]), sampleRateHz: 16000, channels: 1, tsMs: 0 }], signal);
    await speaker.close();
    const back = await readWavAs16kMono(file);
    expect(Array.from(back.pcm)).toEqual([1, 2, 3, 4, 5]);
  });

  it('stops with E_ABORTED when aborted', async () => {
    const speaker = new WavFileSpeaker(join(mkdtempSync(join(tmpdir(), 'spk-')), 'out.wav'));
    const controller = new AbortController();
    controller.abort();
    await expect(
      speaker.play(
        [{ pcm: new Int16Array(4), sampleRateHz: 16000, channels: 1, tsMs: 0 }],
        controller.signal,
      ),
    ).rejects.toSatisfy((e) => isGlassesError(e, 'E_ABORTED'));
  });
});
