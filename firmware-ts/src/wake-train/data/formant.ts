/**
 * Vocal tract length perturbation in the audio: the spectral envelope (the formants, which the
 * vocal tract's length sets) is stretched along the frequency axis while the harmonics (the pitch)
 * stay where they are, so one synthetic voice becomes speakers with shorter or longer tracts.
 * (Jaitly & Hinton 2013 warp the filterbank instead; our features come from audio through the
 * openWakeWord melspectrogram model, so the warp is done before it.)
 *
 * Per 32 ms frame (hop 8 ms, Hann windows): the log magnitude spectrum is split by cepstral liftering
 * into a smooth envelope (the first LIFTER quefrencies) and the fine structure (harmonics); the
 * envelope is resampled at k / factor, added back to the fine structure, and the frame is rebuilt
 * with its own phase and overlap-added.
 */
import { fft } from './fft.js';

const FRAME = 512;
const HOP = 128;
/** Cepstral coefficients kept as the envelope: above a 30 ms pitch period, below a 2.5 ms one. */
const LIFTER = 30;

/** `factor` > 1 moves the formants up (a shorter vocal tract), < 1 down; 1 returns a copy. */
export function warpFormants(x: Float32Array, factor: number): Float32Array {
  if (!(factor > 0.5 && factor < 2)) throw new Error(`formant warp factor ${factor} outside (0.5, 2)`);
  if (factor === 1 || x.length < FRAME) return x.slice();
  const window = new Float64Array(FRAME);
  for (let i = 0; i < FRAME; i++) window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / FRAME);
  const bins = FRAME / 2 + 1;
  const out = new Float64Array(x.length + FRAME);
  const norm = new Float64Array(x.length + FRAME);
  const re = new Float64Array(FRAME);
  const im = new Float64Array(FRAME);
  const cr = new Float64Array(FRAME);
  const ci = new Float64Array(FRAME);
  const logMag = new Float64Array(bins);
  const envelope = new Float64Array(bins);
  for (let start = -HOP * 3; start < x.length; start += HOP) {
    for (let i = 0; i < FRAME; i++) {
      const j = start + i;
      re[i] = j >= 0 && j < x.length ? (x[j] ?? 0) * (window[i] ?? 0) : 0;
      im[i] = 0;
    }
    fft(re, im);
    for (let k = 0; k < bins; k++) logMag[k] = Math.log(Math.hypot(re[k] ?? 0, im[k] ?? 0) + 1e-9);
    // Real cepstrum of the (even) log spectrum, liftered, and back: the envelope.
    for (let k = 0; k < FRAME; k++) {
      cr[k] = logMag[k < bins ? k : FRAME - k] ?? 0;
      ci[k] = 0;
    }
    fft(cr, ci, true);
    for (let q = LIFTER; q <= FRAME - LIFTER; q++) {
      cr[q] = 0;
      ci[q] = 0;
    }
    fft(cr, ci);
    for (let k = 0; k < bins; k++) envelope[k] = cr[k] ?? 0;
    for (let k = 0; k < bins; k++) {
      const from = Math.min(bins - 1, k / factor);
      const lo = Math.floor(from);
      const frac = from - lo;
      const warped = (envelope[lo] ?? 0) * (1 - frac) + (envelope[Math.min(bins - 1, lo + 1)] ?? 0) * frac;
      const gain = Math.exp(warped - (envelope[k] ?? 0));
      re[k] = (re[k] ?? 0) * gain;
      im[k] = (im[k] ?? 0) * gain;
      if (k > 0 && k < FRAME / 2) {
        // Keep the spectrum conjugate-symmetric, so the frame stays real.
        re[FRAME - k] = re[k] ?? 0;
        im[FRAME - k] = -(im[k] ?? 0);
      }
    }
    fft(re, im, true);
    for (let i = 0; i < FRAME; i++) {
      const j = start + i;
      if (j < 0 || j >= x.length) continue;
      out[j] = (out[j] ?? 0) + (re[i] ?? 0) * (window[i] ?? 0);
      norm[j] = (norm[j] ?? 0) + (window[i] ?? 0) ** 2;
    }
  }
  const y = new Float32Array(x.length);
  for (let j = 0; j < x.length; j++) y[j] = (norm[j] ?? 0) > 1e-9 ? (out[j] ?? 0) / (norm[j] ?? 1) : 0;
  return y;
}
