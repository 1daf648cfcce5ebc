/**
 * Room impulse responses made in code: the image-source method for a shoebox room (Allen & Berkley
 * 1979), so the data can put a voice anywhere from the wearer's own mouth, a few centimetres from
 * the glasses' microphone, to a talker or a television metres away in a reverberant room.
 *
 * Each image source of the room's mirror lattice adds a delayed impulse of amplitude
 * beta^reflections / distance; the walls' reflection coefficient beta comes from the reverberation
 * time asked for (Sabine: RT60 = 0.161 V / (S a), beta = sqrt(1 - a)). Fractional delays are
 * spread over two samples, and the response is low-passed by a one-pole filter whose cut-off falls
 * with arrival time (air and walls take the highs first).
 */
import { convolve } from './fft.js';

export interface RoomSpec {
  /** Width, depth, height, metres. */
  size: [number, number, number];
  /** Reverberation time, seconds. */
  rt60: number;
  /** Positions inside the room, metres. */
  mic: [number, number, number];
  source: [number, number, number];
}

const SPEED_OF_SOUND = 343;
/** Responses are cut here: later echoes are far below the clips' noise and 16-bit floor. */
export const MAX_RESPONSE_SECONDS = 0.6;

export function sourceDistance(room: RoomSpec): number {
  return Math.hypot(room.source[0] - room.mic[0], room.source[1] - room.mic[1], room.source[2] - room.mic[2]);
}

/** The impulse response from `source` to `mic`, normalised so that the direct sound is 1. */
export function roomImpulse(room: RoomSpec, sampleRateHz: number): Float32Array {
  const [lx, ly, lz] = room.size;
  const volume = lx * ly * lz;
  const surface = 2 * (lx * ly + ly * lz + lx * lz);
  const absorption = Math.min(0.98, Math.max(0.02, (0.161 * volume) / (surface * room.rt60)));
  const beta = Math.sqrt(1 - absorption);
  const seconds = Math.min(MAX_RESPONSE_SECONDS, room.rt60);
  const length = Math.ceil(seconds * sampleRateHz);
  const h = new Float64Array(length + 2);
  const maxDistance = (length / sampleRateHz) * SPEED_OF_SOUND;
  const direct = Math.max(0.01, sourceDistance(room));
  const range = (l: number): number => Math.ceil(maxDistance / (2 * l)) + 1;
  const [nx, ny, nz] = [range(lx), range(ly), range(lz)];
  const [sx, sy, sz] = room.source;
  const [mx, my, mz] = room.mic;
  for (let a = -nx; a <= nx; a++) {
    for (let qa = 0; qa <= 1; qa++) {
      const dx = (1 - 2 * qa) * sx + 2 * a * lx - mx;
      const rx = Math.abs(a - qa) + Math.abs(a);
      if (Math.abs(dx) > maxDistance) continue;
      for (let b = -ny; b <= ny; b++) {
        for (let qb = 0; qb <= 1; qb++) {
          const dy = (1 - 2 * qb) * sy + 2 * b * ly - my;
          const ry = Math.abs(b - qb) + Math.abs(b);
          const dxy = dx * dx + dy * dy;
          if (dxy > maxDistance * maxDistance) continue;
          for (let c = -nz; c <= nz; c++) {
            for (let qc = 0; qc <= 1; qc++) {
              const dz = (1 - 2 * qc) * sz + 2 * c * lz - mz;
              const d = Math.sqrt(dxy + dz * dz);
              if (d > maxDistance) continue;
              const reflections = rx + ry + Math.abs(c - qc) + Math.abs(c);
              const gain = beta ** reflections * (direct / Math.max(d, 0.01));
              const at = ((d - direct) / SPEED_OF_SOUND) * sampleRateHz;
              const i = Math.floor(at);
              const frac = at - i;
              if (i < 0 || i + 1 >= h.length) continue;
              h[i] = (h[i] ?? 0) + gain * (1 - frac);
              h[i + 1] = (h[i + 1] ?? 0) + gain * frac;
            }
          }
        }
      }
    }
  }
  // Highs die first: a one-pole low-pass whose cut-off falls from 8 kHz to about 2 kHz over RT60.
  const out = new Float32Array(length);
  let state = 0;
  for (let i = 0; i < length; i++) {
    const t = i / sampleRateHz;
    const cutoffHz = 2000 + 6000 * Math.exp((-3 * t) / room.rt60);
    const k = 1 - Math.exp((-2 * Math.PI * cutoffHz) / sampleRateHz);
    state += k * ((h[i] ?? 0) - state);
    out[i] = state;
  }
  return out;
}

/** `x` as heard at the microphone: convolved with the room's response, cut to x's length. */
export function inRoom(x: Float32Array, room: RoomSpec, sampleRateHz: number): Float32Array {
  return convolve(x, roomImpulse(room, sampleRateHz));
}
