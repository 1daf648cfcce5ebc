import { describe, expect, it } from 'vitest';
import { downmix, resample, StreamingResampler } from '../../../firmware-ts/src/audio/resample.js';

function tone(hz: number, rate: number, seconds: number): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) =>
    Math.sin((2 * Math.PI * hz * i) / rate),
  );
}

function rms(x: Float32Array): number {
  return Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
}

describe('resample', () => {
  it('keeps a tone in the pass band', () => {
    const out = resample(tone(1000, 48000, 0.5), 48000, 16000);
    expect(out.length).toBe(8000);
    expect(rms(out.subarray(500, 7500))).toBeCloseTo(Math.SQRT1_2, 1);
  });

  it('removes a tone above the new Nyquist instead of aliasing it', () => {
    const out = resample(tone(12000, 48000, 0.5), 48000, 16000);
    expect(rms(out.subarray(500, 7500))).toBeLessThan(0.02);
  });

  it('upsamples 8 kHz speech band', () => {
    const out = resample(tone(300, 8000, 0.5), 8000, 16000);
    expect(out.length).toBe(8000);
    expect(rms(out.subarray(500, 7500))).toBeCloseTo(Math.SQRT1_2, 1);
  });

  it('downmixes by averaging channels', () => {
    expect(Array.from(downmix(Float32Array.from([1, 0, 0.5, 0.5]), 2))).toEqual([0.5, 0.5]);
  });
});

describe('StreamingResampler', () => {
  function noise(length: number, seed: number): Float32Array {
    let x = seed;
    return Float32Array.from({ length }, () => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x / 1073741824 - 1;
    });
  }

  function streamed(input: Float32Array, fromHz: number, toHz: number, pieces: readonly number[]): number[] {
    const r = new StreamingResampler(fromHz, toHz);
    const out: number[] = [];
    let at = 0;
    for (let i = 0; at < input.length; i++) {
      const n = pieces[i % pieces.length] ?? 1;
      out.push(...r.push(input.subarray(at, at + n)));
      at += n;
    }
    out.push(...r.end());
    return out;
  }

  // 16001 Hz has too many kernel phases for a table: the direct kernel path is checked too.
  it.each([
    [48000, 16000],
    [44100, 16000],
    [22050, 16000],
    [8000, 16000],
    [11025, 16000],
    [16001, 16000],
    [16000, 16000],
  ])('gives the same samples as resample() from %i to %i Hz, whatever the pieces', (fromHz, toHz) => {
    const input = noise(Math.round(fromHz * 0.37) + 3, fromHz);
    const whole = Array.from(resample(input, fromHz, toHz));
    for (const pieces of [[1], [7, 1, 300], [4096], [input.length], [fromHz]]) {
      expect(streamed(input, fromHz, toHz, pieces)).toEqual(whole);
    }
  });

  it('holds only the kernel span of input between pieces', () => {
    const r = new StreamingResampler(48000, 16000);
    let out = 0;
    const second = noise(48000, 1);
    for (let i = 0; i < 60; i++) out += r.push(second).length;
    // All but the last kernel half-width of output is handed out as it comes.
    expect(out).toBeGreaterThan(60 * 16000 - 100);
    // The kernel spans about 2 x 51 input samples at 48 -> 16 kHz.
    expect(r.heldSamples).toBeLessThan(120);
    expect(out + r.end().length).toBe(60 * 16000);
  });

  it('gives the short inputs their whole output at the end', () => {
    const input = noise(10, 2);
    const r = new StreamingResampler(48000, 16000);
    expect(r.push(input)).toHaveLength(0);
    expect(Array.from(r.end())).toEqual(Array.from(resample(input, 48000, 16000)));
  });
});
