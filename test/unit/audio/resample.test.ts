import { describe, expect, it } from 'vitest';
import { downmix, resample } from '../../../firmware-ts/src/audio/resample.js';

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
