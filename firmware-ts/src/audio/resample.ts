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

export function resample(input: Float32Array, fromHz: number, toHz: number): Float32Array {
  if (fromHz === toHz) return input;
  const ratio = toHz / fromHz;
  const outLength = Math.floor(input.length * ratio);
  const out = new Float32Array(outLength);
  // Cut-off as a fraction of the input rate's Nyquist.
  const cutoff = Math.min(1, ratio) * 0.95;
  const halfWidth = Math.ceil(ZERO_CROSSINGS / cutoff);
  for (let i = 0; i < outLength; i++) {
    const centre = i / ratio;
    const first = Math.max(0, Math.ceil(centre - halfWidth));
    const last = Math.min(input.length - 1, Math.floor(centre + halfWidth));
    let acc = 0;
    let norm = 0;
    for (let j = first; j <= last; j++) {
      const x = j - centre;
      const t = x * cutoff;
      const sinc = t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t);
      // Hann window over the kernel's span.
      const w = 0.5 + 0.5 * Math.cos((Math.PI * x) / (halfWidth + 1));
      const k = sinc * w;
      acc += (input[j] ?? 0) * k;
      norm += k;
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
