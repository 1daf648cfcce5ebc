/**
 * Renders one planned clip: a synthesiser speaks it; the formant warp and the image-source room are
 * applied here, then sox applies tempo, pitch, its reverberator and the microphone band, and the mix
 * (level, padding, noise at an SNR) is done here, from the seeded recipe.
 */
import {
  ROOMS,
  type Augment,
  type ClipSpec,
  type NoiseKind,
  type SoundSpec,
  type SpeechSpec,
} from './plan.js';
import { warpFormants } from './formant.js';
import { inRoom } from './room.js';
import { SAMPLE_RATE_HZ, soxEffects, soxSynth, speak } from './tools.js';
import { synthVoice, type Split } from './voices.js';

/** Long noise recordings clips take slices of: synthesised once per generation. */
export interface NoiseBeds {
  white: Float32Array;
  pink: Float32Array;
  brown: Float32Array;
  /** Speech babble made from each split's own voices, so no held-out voice leaks into training. */
  babble: Record<Split, Float32Array>;
}

export interface RenderedClip {
  samples: Float32Array;
  /** Positives: where the phrase's speech ends, in seconds. */
  phraseEndSeconds?: number;
}

/** Speech quieter than this (relative to its peak) at either end is trimmed. */
const TRIM_RELATIVE = 0.01;
/** Room for the reverb tail when effects run; cut back to the clip's tail afterwards. */
const EFFECT_TAIL_SECONDS = 0.5;

export async function renderClip(
  spec: ClipSpec,
  beds: NoiseBeds,
  signal: AbortSignal,
): Promise<RenderedClip> {
  if (spec.speech !== undefined) return renderSpeech(spec.speech, spec.split, beds, signal);
  if (spec.sound !== undefined) return { samples: await renderSound(spec.sound, spec.split, beds, signal) };
  throw new Error(`clip ${spec.id} has no recipe`);
}

async function renderSpeech(
  s: SpeechSpec,
  split: Split,
  beds: NoiseBeds,
  signal: AbortSignal,
): Promise<RenderedClip> {
  const tts = {
    engine: s.voice.engine,
    voice: synthVoice(s.voice),
    speedWpm: s.speedWpm,
    pitch: s.pitch,
    wordGap: s.wordGap,
  };
  const first = trim(await speak({ ...tts, text: s.text }, signal));
  let utterance = first;
  if (s.then !== undefined) {
    const second = trim(await speak({ ...tts, text: s.then.text }, signal));
    utterance = concat([first, zeros(s.then.gapSeconds), second]);
  }
  const a = s.augment;
  const effects = soxArgs(a, s.voice.engine === 'espeak' ? 0 : enginePitchCents(s.pitch));
  const tempo = a.tempo ?? 1;
  let speech = utterance;
  if (effects.length > 0 || a.formantWarp !== undefined || a.room !== undefined) {
    let processed = concat([utterance, zeros(EFFECT_TAIL_SECONDS)]);
    if (a.formantWarp !== undefined) processed = warpFormants(processed, a.formantWarp);
    if (a.room !== undefined) processed = inRoom(processed, a.room, SAMPLE_RATE_HZ);
    processed = await soxEffects(processed, effects, signal);
    // Keep the speech and its reverb tail up to the clip's tail; the rest of the padding goes.
    speech = processed.subarray(
      0,
      Math.min(processed.length, Math.round(utterance.length / tempo) + seconds(a.tailSeconds)),
    );
  }
  const speechEnd = Math.round(utterance.length / tempo);
  scaleToLevel(speech, a.levelDbfs);
  const lead = seconds(a.leadSeconds);
  const total = lead + Math.max(speech.length, speechEnd + seconds(a.tailSeconds));
  const out = new Float32Array(total);
  out.set(speech, lead);
  if (a.noise !== undefined) {
    const bed = bedOf(beds, a.noise.kind, split);
    addNoise(out, bed, a.noise.at, activeRms(speech) / 10 ** (a.noise.snrDb / 20));
  }
  limitPeak(out);
  const phraseEnd = s.then === undefined ? speechEnd : Math.round(first.length / tempo);
  return { samples: out, phraseEndSeconds: Number(((lead + phraseEnd) / SAMPLE_RATE_HZ).toFixed(3)) };
}

/**
 * flite and festival have no pitch setting common to their voices: the recipe's pitch (0..99, as
 * espeak-ng's, 50 the voice's own) becomes a shift of up to +-4 semitones by sox.
 */
export function enginePitchCents(pitch: number): number {
  return Math.round((pitch - 50) * 8);
}

function soxArgs(a: Augment, voicePitchCents: number): string[] {
  const e: string[] = [];
  if (a.tempo !== undefined) e.push('tempo', '-s', String(a.tempo));
  const cents = (a.pitchCents ?? 0) + voicePitchCents;
  // sox's pitch resamples inside the chain; `rate` brings it back to 16 kHz before the filters.
  if (cents !== 0) e.push('pitch', String(cents), 'rate', String(SAMPLE_RATE_HZ));
  if (a.reverb !== undefined) e.push('reverb', ...ROOMS[a.reverb].map(String));
  if (a.band !== undefined)
    e.push('highpass', String(a.band.highpassHz), 'lowpass', String(a.band.lowpassHz));
  return e;
}

async function renderSound(
  s: SoundSpec,
  split: Split,
  beds: NoiseBeds,
  signal: AbortSignal,
): Promise<Float32Array> {
  switch (s.kind) {
    case 'noise': {
      const out = new Float32Array(seconds(s.seconds));
      addNoise(out, bedOf(beds, s.noise, split), s.at, 1);
      scaleToLevel(out, s.levelDbfs);
      return out;
    }
    case 'silence': {
      const out = new Float32Array(seconds(s.seconds));
      if (s.levelDbfs !== null) {
        addNoise(out, beds.white, s.at, 1);
        scaleToLevel(out, s.levelDbfs);
      }
      return out;
    }
    case 'synth': {
      const out = await soxSynth(s.channels, s.effects, signal);
      scaleToLevel(out, s.levelDbfs);
      limitPeak(out);
      return out;
    }
  }
}

function bedOf(beds: NoiseBeds, kind: NoiseKind, split: Split): Float32Array {
  return kind === 'babble' ? beds.babble[split] : beds[kind];
}

const seconds = (s: number): number => Math.round(s * SAMPLE_RATE_HZ);
const zeros = (s: number): Float32Array => new Float32Array(seconds(s));

export function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Cuts the quiet before and after the speech. */
export function trim(x: Float32Array): Float32Array {
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  const floor = peak * TRIM_RELATIVE;
  let start = 0;
  while (start < x.length && Math.abs(x[start] ?? 0) <= floor) start++;
  let end = x.length;
  while (end > start && Math.abs(x[end - 1] ?? 0) <= floor) end--;
  return x.slice(start, end);
}

export function rms(x: Float32Array): number {
  let sum = 0;
  for (const v of x) sum += v * v;
  return x.length === 0 ? 0 : Math.sqrt(sum / x.length);
}

/**
 * RMS of the speech itself: over the 20 ms windows within 30 dB of the loudest, so pauses between
 * words do not make the SNR look better than it is.
 */
export function activeRms(x: Float32Array): number {
  const w = 320;
  const energies: number[] = [];
  for (let i = 0; i + w <= x.length; i += w) energies.push(rms(x.subarray(i, i + w)));
  if (energies.length === 0) return rms(x);
  const loudest = Math.max(...energies);
  const active = energies.filter((e) => e >= loudest * 10 ** (-30 / 20));
  return Math.sqrt(active.reduce((s, e) => s + e * e, 0) / active.length);
}

function scaleToLevel(x: Float32Array, levelDbfs: number): void {
  const now = activeRms(x);
  if (now === 0) return;
  const g = 10 ** (levelDbfs / 20) / now;
  for (let i = 0; i < x.length; i++) x[i] = (x[i] ?? 0) * g;
}

/** Adds the bed from `at` (0..1 of its length), wrapping round, scaled to `rmsTarget` RMS. */
function addNoise(out: Float32Array, bed: Float32Array, at: number, rmsTarget: number): void {
  if (bed.length === 0) return;
  const bedRms = rms(bed);
  if (bedRms === 0) return;
  const g = rmsTarget / bedRms;
  let j = Math.floor(at * bed.length) % bed.length;
  for (let i = 0; i < out.length; i++) {
    out[i] = (out[i] ?? 0) + (bed[j] ?? 0) * g;
    j = j + 1 === bed.length ? 0 : j + 1;
  }
}

/** Scales down anything that would clip in 16 bits. */
function limitPeak(x: Float32Array): void {
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  if (peak <= 0.98) return;
  const g = 0.98 / peak;
  for (let i = 0; i < x.length; i++) x[i] = (x[i] ?? 0) * g;
}

/** sox's white, pink and brown noise, `secondsLong` each (the same every run: sox -R). */
export async function synthNoiseBeds(
  secondsLong: number,
  signal: AbortSignal,
): Promise<Pick<NoiseBeds, 'white' | 'pink' | 'brown'>> {
  const make = (kind: string): Promise<Float32Array> =>
    soxSynth(1, ['synth', String(secondsLong), kind], signal);
  return { white: await make('whitenoise'), pink: await make('pinknoise'), brown: await make('brownnoise') };
}

/** Speech babble: several voices talking at once, each from its own offset. */
export function mixBabble(talkers: readonly Float32Array[], secondsLong: number): Float32Array {
  const out = new Float32Array(seconds(secondsLong));
  talkers.forEach((t, k) => {
    if (t.length === 0) return;
    const g = 1 / Math.max(rms(t), 1e-6);
    // Stagger the talkers so they do not start together.
    let j = Math.floor((k * t.length) / talkers.length);
    for (let i = 0; i < out.length; i++) {
      out[i] = (out[i] ?? 0) + (t[j] ?? 0) * g;
      j = j + 1 === t.length ? 0 : j + 1;
    }
  });
  return out;
}
