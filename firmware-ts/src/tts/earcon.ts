/**
 * The "I'm listening" chime, generated rather than shipped as a file.
 *
 * Two sine tones a perfect fifth apart, A5 (880 Hz) then E6 (1318.5 Hz), rising: a rising interval
 * reads as "go ahead", and a fifth is the most consonant interval after the octave, so it sounds
 * like a chime rather than an alarm. Both sit where the small speakers in a temple arm are loudest
 * (they give little below ~500 Hz) and far under the 8 kHz Nyquist limit of 16 kHz audio. Each tone
 * rises and falls along a raised cosine, so it starts and ends at zero with a zero slope: no clicks.
 * The tones overlap a little so the chime is one gesture rather than two beeps. The peak is 0.3 of
 * full scale (about -10 dBFS): heard next to the ear, a chime at full scale is startling, and there
 * is headroom for the volume gain.
 */
import type { AudioChunk } from '../audio/chunk.js';

const PEAK = 0.3;
interface Tone {
  hz: number;
  startMs: number;
  endMs: number;
}
const TONES: readonly Tone[] = [
  { hz: 880, startMs: 0, endMs: 85 },
  { hz: 1318.51, startMs: 55, endMs: 150 },
];
/**
 * "That did not work", for when the glasses cannot say so (the synthesiser itself failed): the same
 * kind of chime falling a fourth, E5 (659.3 Hz) then B4 (493.9 Hz), and slower. A falling interval
 * reads as "no"; B4 is still well above where a temple speaker fades.
 */
const FAILURE_TONES: readonly Tone[] = [
  { hz: 659.26, startMs: 0, endMs: 140 },
  { hz: 493.88, startMs: 110, endMs: 320 },
];
// The rise is short so the tone sounds struck; the long fall is the chime's ring.
const ATTACK_MS = 8;

/** Raised-cosine envelope at `t` ms into a tone of `length` ms: 0 at both ends, 1 at the attack's end. */
function envelope(t: number, length: number): number {
  if (t <= 0 || t >= length) return 0;
  if (t < ATTACK_MS) return 0.5 - 0.5 * Math.cos((Math.PI * t) / ATTACK_MS);
  return 0.5 + 0.5 * Math.cos((Math.PI * (t - ATTACK_MS)) / (length - ATTACK_MS));
}

export function earcon(sampleRateHz = 16000): AudioChunk {
  return chime(TONES, sampleRateHz);
}

/** The failure tone: played when a turn failed and not even the spoken fallback can be made. */
export function failureTone(sampleRateHz = 16000): AudioChunk {
  return chime(FAILURE_TONES, sampleRateHz);
}

function chime(tones: readonly Tone[], sampleRateHz: number): AudioChunk {
  const totalMs = Math.max(...tones.map((t) => t.endMs));
  const n = Math.round((totalMs / 1000) * sampleRateHz);
  const mix = new Float64Array(n);
  for (const tone of tones) {
    const length = tone.endMs - tone.startMs;
    for (let i = 0; i < n; i++) {
      const tMs = (i / sampleRateHz) * 1000 - tone.startMs;
      const env = envelope(tMs, length);
      if (env === 0) continue;
      mix[i] = (mix[i] ?? 0) + env * Math.sin((2 * Math.PI * tone.hz * tMs) / 1000);
    }
  }
  let peak = 0;
  for (const v of mix) peak = Math.max(peak, Math.abs(v));
  const scale = peak === 0 ? 0 : (PEAK * 32767) / peak;
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) pcm[i] = Math.round((mix[i] ?? 0) * scale);
  return { pcm, sampleRateHz, channels: 1, tsMs: 0 };
}
