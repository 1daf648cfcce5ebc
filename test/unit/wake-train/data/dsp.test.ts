/** The data generator's signal processing: FFT convolution, formant warping, image-source rooms. */
import { describe, expect, it } from 'vitest';
import { convolve, fft } from '../../../../firmware-ts/src/wake-train/data/fft.js';
import { warpFormants } from '../../../../firmware-ts/src/wake-train/data/formant.js';
import { roomImpulse, type RoomSpec } from '../../../../firmware-ts/src/wake-train/data/room.js';
import { seededRandom } from '../../../../firmware-ts/src/util/random.js';

const RATE = 16_000;

function noise(n: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

/** A vowel-like sound: a 120 Hz pulse train through two resonances (formants) at f1 and f2. */
function vowel(seconds: number, f1: number, f2: number): Float32Array {
  const n = Math.round(seconds * RATE);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i += Math.round(RATE / 120)) x[i] = 1;
  const resonate = (input: Float32Array, f: number): Float32Array => {
    const r = 0.97;
    const c = 2 * r * Math.cos((2 * Math.PI * f) / RATE);
    const out = new Float32Array(input.length);
    for (let i = 0; i < input.length; i++)
      out[i] = (input[i] ?? 0) + c * (out[i - 1] ?? 0) - r * r * (out[i - 2] ?? 0);
    return out;
  };
  const y = resonate(x, f1);
  const z = resonate(x, f2);
  return Float32Array.from(y, (v, i) => v + (z[i] ?? 0) * 0.5);
}

/** Magnitude spectrum (first half) of the middle 4096 samples, Hann-windowed. */
function spectrum(x: Float32Array): Float64Array {
  const n = 4096;
  const start = Math.floor((x.length - n) / 2);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) re[i] = (x[start + i] ?? 0) * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
  fft(re, im);
  return Float64Array.from({ length: n / 2 }, (_, k) => Math.hypot(re[k] ?? 0, im[k] ?? 0));
}

const hzOf = (bin: number): number => (bin * RATE) / 4096;

/** The frequency of the spectrum's strongest bin between lo and hi Hz. */
function peakHz(s: Float64Array, lo: number, hi: number): number {
  let best = -1;
  let at = 0;
  for (let k = Math.ceil((lo * 4096) / RATE); k < Math.floor((hi * 4096) / RATE); k++) {
    if ((s[k] ?? 0) > best) {
      best = s[k] ?? 0;
      at = k;
    }
  }
  return hzOf(at);
}

/** Smoothed spectrum (a 300 Hz moving average): the envelope, where the formants are peaks. */
function envelope(s: Float64Array): Float64Array {
  const half = Math.round((150 * 4096) / RATE);
  return Float64Array.from(s, (_, k) => {
    let sum = 0;
    let n = 0;
    for (let j = Math.max(0, k - half); j <= Math.min(s.length - 1, k + half); j++) {
      sum += s[j] ?? 0;
      n++;
    }
    return sum / n;
  });
}

describe('fft and convolve', () => {
  it('round-trips and convolves like the direct sum', () => {
    const x = noise(1024, 1);
    const re = Float64Array.from(x);
    const im = new Float64Array(1024);
    fft(re, im);
    fft(re, im, true);
    for (let i = 0; i < 1024; i++) expect(re[i]).toBeCloseTo(x[i] ?? 0, 9);
    const signal = noise(5000, 2);
    const h = noise(300, 3);
    const y = convolve(signal, h);
    expect(y.length).toBe(signal.length);
    for (const i of [0, 299, 1234, 4097, 4999]) {
      let direct = 0;
      for (let k = 0; k < h.length && k <= i; k++) direct += (h[k] ?? 0) * (signal[i - k] ?? 0);
      expect(y[i]).toBeCloseTo(direct, 3);
    }
  });
});

describe('warpFormants', () => {
  it('moves the formants by the factor and keeps the pitch', () => {
    const x = vowel(1, 700, 1800);
    for (const factor of [0.87, 1.15]) {
      const y = warpFormants(x, factor);
      expect(y.length).toBe(x.length);
      const [ex, ey] = [envelope(spectrum(x)), envelope(spectrum(y))];
      // The second formant's peak moves with the factor (within 8 %)...
      expect(peakHz(ey, 1200, 2600) / peakHz(ex, 1200, 2600)).toBeCloseTo(factor, 1);
      // ...while the harmonics stay at multiples of 120 Hz: the lowest one is still at 120.
      expect(Math.abs(peakHz(spectrum(y), 90, 160) - 120)).toBeLessThan(8);
    }
  });

  it('gives the signal back at factor 1, and refuses a factor outside (0.5, 2)', () => {
    const x = noise(4000, 4);
    expect(warpFormants(x, 1)).toEqual(x);
    expect(() => warpFormants(x, 3)).toThrow(/outside/);
  });
});

describe('roomImpulse', () => {
  const room = (distance: number, rt60: number): RoomSpec => ({
    size: [6, 5, 3],
    rt60,
    mic: [2, 2, 1.5],
    source: [2 + distance, 2, 1.5],
  });
  /** Energy of the direct sound (its first 2.5 ms) over the rest. */
  const directToReverberant = (h: Float32Array): number => {
    let direct = 0;
    let late = 0;
    h.forEach((v, i) => {
      if (i < 40) direct += v * v;
      else late += v * v;
    });
    return direct / late;
  };

  it('starts with the direct sound and lasts the reverberation time', () => {
    const h = roomImpulse(room(1, 0.5), RATE);
    expect(h.length).toBe(0.5 * RATE);
    expect(Math.abs(h[0] ?? 0)).toBeGreaterThan(0.5);
    // The energy in the last 100 ms is at least 30 dB below the first 100 ms.
    const energy = (from: number, to: number): number =>
      h.subarray(from * RATE, to * RATE).reduce((s, v) => s + v * v, 0);
    expect(10 * Math.log10(energy(0, 0.1) / energy(0.4, 0.5))).toBeGreaterThan(25);
  });

  it('hears the mouth of the wearer above the room, a far talker and a live room under it', () => {
    const mouth = directToReverberant(roomImpulse(room(0.08, 0.6), RATE));
    const far = directToReverberant(roomImpulse(room(3, 0.6), RATE));
    const dead = directToReverberant(roomImpulse(room(3, 0.2), RATE));
    expect(mouth).toBeGreaterThan(10 * far);
    expect(dead).toBeGreaterThan(far);
  });
});
