import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeWav } from '../../../firmware-ts/src/audio/wav.js';
import { SimulatedClock } from '../../../firmware-ts/src/hal/clock.js';
import { WavFileMic } from '../../../firmware-ts/src/hal/mic.js';

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
