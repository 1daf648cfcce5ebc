import { describe, expect, it } from 'vitest';
import { durationMs } from '../../../firmware-ts/src/audio/chunk.js';
import { earcon } from '../../../firmware-ts/src/tts/earcon.js';

function peak(pcm: Int16Array): number {
  return pcm.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

describe('earcon', () => {
  it('is a short 16 kHz mono chime', () => {
    const chime = earcon();
    expect(chime.sampleRateHz).toBe(16000);
    expect(chime.channels).toBe(1);
    expect(durationMs(chime)).toBeGreaterThanOrEqual(100);
    expect(durationMs(chime)).toBeLessThanOrEqual(200);
  });

  it('peaks well below full scale, so it cannot clip', () => {
    const p = peak(earcon().pcm);
    expect(p).toBeGreaterThan(0.1 * 32767);
    expect(p).toBeLessThanOrEqual(0.5 * 32767);
  });

  it('starts and ends near zero, with no jump between samples (no click)', () => {
    const { pcm } = earcon();
    const edge = 16; // 1 ms
    expect(peak(pcm.subarray(0, edge))).toBeLessThan(300);
    expect(peak(pcm.subarray(pcm.length - edge))).toBeLessThan(300);
    expect(pcm[0]).toBe(0);
    // The largest step a 1318 Hz sine at this level takes between 16 kHz samples, plus a margin.
    const maxStep = 2 * Math.PI * (1318.51 / 16000) * peak(pcm) * 1.1;
    for (let i = 1; i < pcm.length; i++) {
      expect(Math.abs((pcm[i] ?? 0) - (pcm[i - 1] ?? 0))).toBeLessThan(maxStep);
    }
  });

  it('is generated at any rate with the same length', () => {
    const chime = earcon(48000);
    expect(chime.sampleRateHz).toBe(48000);
    expect(durationMs(chime)).toBeCloseTo(durationMs(earcon()), 0);
  });
});
