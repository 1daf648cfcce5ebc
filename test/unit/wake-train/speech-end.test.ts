import { describe, expect, it } from 'vitest';
import { speechEndMs } from '../../../firmware-ts/src/wake-train/speech-end.js';
import { Prng } from '../../../firmware-ts/src/wake-train/data/prng.js';

const RATE = 16000;

/** `silenceMs` quiet, `toneMs` of a 300 Hz tone, `afterMs` quiet; quiet is noise at `noise` amplitude. */
function clip(silenceMs: number, toneMs: number, afterMs: number, noise: number): Int16Array {
  const n = (ms: number): number => (ms * RATE) / 1000;
  const pcm = new Int16Array(n(silenceMs + toneMs + afterMs));
  const rng = new Prng(1);
  for (let i = 0; i < pcm.length; i++) {
    const inTone = i >= n(silenceMs) && i < n(silenceMs + toneMs);
    pcm[i] = Math.round(
      (inTone ? 8000 * Math.sin((2 * Math.PI * 300 * i) / RATE) : 0) + noise * (rng.next() * 2 - 1),
    );
  }
  return pcm;
}

describe('speechEndMs', () => {
  it('finds the end of the last loud part in silence', () => {
    expect(speechEndMs(clip(500, 700, 800, 0), RATE)).toBe(1200);
  });

  it('finds it above a noise floor', () => {
    const end = speechEndMs(clip(500, 700, 800, 400), RATE);
    expect(Math.abs(end - 1200)).toBeLessThanOrEqual(10);
  });

  it('gives the end of the clip when all of it is loud, and 0 for an empty one', () => {
    expect(speechEndMs(clip(0, 1000, 0, 0), RATE)).toBe(1000);
    expect(speechEndMs(new Int16Array(0), RATE)).toBe(0);
  });
});
