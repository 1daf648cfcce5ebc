import { describe, expect, it } from 'vitest';
import { Framer } from '../../../firmware-ts/src/audio/framer.js';

function ramp(n: number): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => i % 32000);
}

describe('Framer', () => {
  it.each([1, 7, 1024, 1280, 2560, 4001])('cuts chunks of %i into the same 1280-sample frames', (size) => {
    const audio = ramp(10_000);
    const framer = new Framer(1280);
    const frames: Int16Array[] = [];
    for (let at = 0; at < audio.length; at += size)
      frames.push(...framer.push(audio.subarray(at, at + size)));
    expect(frames).toHaveLength(Math.floor(10_000 / 1280));
    frames.forEach((f, i) => {
      expect(Array.from(f)).toEqual(Array.from(audio.subarray(i * 1280, (i + 1) * 1280)));
    });
    expect(framer.nextFrameStart).toBe(frames.length * 1280);
  });

  it('hands out frames the caller may keep', () => {
    const framer = new Framer(4);
    const [a] = framer.push(Int16Array.from([1, 2, 3, 4]));
    framer.push(Int16Array.from([5, 6, 7, 8]));
    expect(Array.from(a!)).toEqual([1, 2, 3, 4]);
  });
});
