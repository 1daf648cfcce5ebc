/**
 * Downmix and sample-rate conversion for audio that arrives in another format (WAV files, USB mics).
 * Windowed-sinc interpolation, with the cut-off lowered below the output Nyquist when downsampling so
 * that 44.1 kHz speech does not alias into the 0-8 kHz band the models listen to.
 */

/** Averages interleaved channels into one. */
export function downmix(interleaved: Float32Array, channels: number): Float32Array {
  if (channels === 1) return interleaved;
  const frames = Math.floor(interleaved.length / channels);
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += interleaved[i * channels + c] ?? 0;
    out[i] = sum / channels;
  }
  return out;
}

// Half-width of the sinc kernel in input samples at the cut-off; 16 zero crossings keeps the
// pass-band ripple well under what the 16-bit output can show.
const ZERO_CROSSINGS = 16;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Largest number of distinct kernel phases worth a table (22.05 -> 16 kHz needs 320). */
const MAX_TABLE_PHASES = 2048;

export function resample(input: Float32Array, fromHz: number, toHz: number): Float32Array {
  if (fromHz === toHz) return input;
  const ratio = toHz / fromHz;
  const outLength = Math.floor(input.length * ratio);
  const out = new Float32Array(outLength);
  // Cut-off as a fraction of the input rate's Nyquist.
  const cutoff = Math.min(1, ratio) * 0.95;
  const halfWidth = Math.ceil(ZERO_CROSSINGS / cutoff);
  const taps = 2 * halfWidth + 1;
  const kernelAt = (x: number): number => {
    const t = x * cutoff;
    const sinc = t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t);
    // Hann window over the kernel's span.
    return sinc * (0.5 + 0.5 * Math.cos((Math.PI * x) / (halfWidth + 1)));
  };
  // For integer rates the output positions fall on `phases` distinct fractions of an input sample, so
  // the kernel is computed once per phase instead of once per output sample (speech output is
  // resampled from espeak-ng's 22.05 kHz on every sentence).
  const g = gcd(Math.round(fromHz), Math.round(toHz));
  const phases = Number.isInteger(fromHz) && Number.isInteger(toHz) ? toHz / g : Infinity;
  const table = phases <= MAX_TABLE_PHASES ? new Float32Array(phases * taps) : undefined;
  const norms = table === undefined ? undefined : new Float32Array(phases);
  if (table !== undefined && norms !== undefined) {
    for (let p = 0; p < phases; p++) {
      const frac = ((p * fromHz) / toHz) % 1;
      let norm = 0;
      for (let k = 0; k < taps; k++) {
        const v = kernelAt(k - halfWidth - frac);
        table[p * taps + k] = v;
        norm += v;
      }
      norms[p] = norm;
    }
  }
  for (let i = 0; i < outLength; i++) {
    const centre = i / ratio;
    const base = Math.floor(centre);
    let acc = 0;
    let norm = 0;
    if (table !== undefined && norms !== undefined) {
      const p = i % phases;
      const row = p * taps;
      const first = base - halfWidth;
      if (first >= 0 && first + taps <= input.length) {
        for (let k = 0; k < taps; k++) acc += (input[first + k] ?? 0) * (table[row + k] ?? 0);
        norm = norms[p] ?? 1;
      } else {
        // Near the ends some taps fall outside the input; normalise by the ones that do not.
        for (let k = 0; k < taps; k++) {
          const j = first + k;
          if (j < 0 || j >= input.length) continue;
          const v = table[row + k] ?? 0;
          acc += (input[j] ?? 0) * v;
          norm += v;
        }
      }
    } else {
      const first = Math.max(0, base - halfWidth);
      const last = Math.min(input.length - 1, base + halfWidth + 1);
      for (let j = first; j <= last; j++) {
        const v = kernelAt(j - centre);
        acc += (input[j] ?? 0) * v;
        norm += v;
      }
    }
    out[i] = norm === 0 ? 0 : acc / norm;
  }
  return out;
}

export function floatToInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.max(-1, Math.min(1, samples[i] ?? 0));
    out[i] = Math.round(v < 0 ? v * 32768 : v * 32767);
  }
  return out;
}

export function int16ToFloat(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = (samples[i] ?? 0) / 32768;
  return out;
}
