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

/** The kernel for one pair of rates, shared by the whole-buffer and the streaming resampler. */
interface Kernel {
  readonly ratio: number;
  readonly halfWidth: number;
  readonly taps: number;
  readonly phases: number;
  readonly table: Float32Array | undefined;
  readonly norms: Float32Array | undefined;
  readonly at: (x: number) => number;
}

function kernelFor(fromHz: number, toHz: number): Kernel {
  const ratio = toHz / fromHz;
  // Cut-off as a fraction of the input rate's Nyquist.
  const cutoff = Math.min(1, ratio) * 0.95;
  const halfWidth = Math.ceil(ZERO_CROSSINGS / cutoff);
  const taps = 2 * halfWidth + 1;
  const at = (x: number): number => {
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
        const v = at(k - halfWidth - frac);
        table[p * taps + k] = v;
        norm += v;
      }
      norms[p] = norm;
    }
  }
  return { ratio, halfWidth, taps, phases, table, norms, at };
}

/**
 * Output samples `from`..`to` (exclusive) into `out` from `to - from` on, reading input sample `j`
 * at `buf[j - bufStart]`. `length` is the input's length where it is known (at its end), else the
 * number of samples seen: an output is only asked for once every tap it reads has arrived, so the
 * streaming and whole-buffer results are the same numbers.
 */
function convolve(
  k: Kernel,
  out: Float32Array,
  from: number,
  to: number,
  buf: Float32Array,
  bufStart: number,
  length: number,
): void {
  const { ratio, halfWidth, taps, phases, table, norms } = k;
  for (let i = from; i < to; i++) {
    const centre = i / ratio;
    const base = Math.floor(centre);
    let acc = 0;
    let norm = 0;
    if (table !== undefined && norms !== undefined) {
      const p = i % phases;
      const row = p * taps;
      const first = base - halfWidth;
      if (first >= 0 && first + taps <= length) {
        const at = first - bufStart;
        for (let t = 0; t < taps; t++) acc += (buf[at + t] ?? 0) * (table[row + t] ?? 0);
        norm = norms[p] ?? 1;
      } else {
        // Near the ends some taps fall outside the input; normalise by the ones that do not.
        for (let t = 0; t < taps; t++) {
          const j = first + t;
          if (j < 0 || j >= length) continue;
          const v = table[row + t] ?? 0;
          acc += (buf[j - bufStart] ?? 0) * v;
          norm += v;
        }
      }
    } else {
      const first = Math.max(0, base - halfWidth);
      const last = Math.min(length - 1, base + halfWidth + 1);
      for (let j = first; j <= last; j++) {
        const v = k.at(j - centre);
        acc += (buf[j - bufStart] ?? 0) * v;
        norm += v;
      }
    }
    out[i - from] = norm === 0 ? 0 : acc / norm;
  }
}

export function resample(input: Float32Array, fromHz: number, toHz: number): Float32Array {
  if (fromHz === toHz) return input;
  const k = kernelFor(fromHz, toHz);
  const out = new Float32Array(Math.floor(input.length * k.ratio));
  convolve(k, out, 0, out.length, input, 0, input.length);
  return out;
}

/**
 * `resample` over audio that arrives in pieces (a WAV read a second at a time): the concatenated
 * output of every `push` and the final `end` equals `resample` of the concatenated input, sample for
 * sample, while it holds only the kernel's span of input (about 2 x 16 zero crossings) between calls.
 */
export class StreamingResampler {
  private readonly kernel: Kernel | undefined;
  /** Input not yet consumed; `buf[0]` is input sample `bufStart`. */
  private buf = new Float32Array(0);
  private bufStart = 0;
  private bufLength = 0;
  /** Next output sample to compute. */
  private next = 0;
  private ended = false;

  constructor(
    readonly fromHz: number,
    readonly toHz: number,
  ) {
    this.kernel = fromHz === toHz ? undefined : kernelFor(fromHz, toHz);
  }

  /** Input samples held for outputs not computed yet: the kernel's span, whatever has been pushed. */
  get heldSamples(): number {
    return this.bufLength;
  }

  /** The output that `input` completes (every output whose taps have all arrived). */
  push(input: Float32Array): Float32Array {
    if (this.ended) throw new Error('StreamingResampler: push after end');
    const k = this.kernel;
    if (k === undefined) return input;
    this.append(input);
    const seen = this.bufStart + this.bufLength;
    // An output is complete once its right-most tap (base + halfWidth + 1) has arrived; the estimate
    // is corrected in both directions so rounding cannot emit an output early or hold one back.
    const complete = (i: number): boolean =>
      Math.floor(i / k.ratio) + k.halfWidth + 2 <= seen && i < Math.floor(seen * k.ratio);
    let to = Math.max(this.next, Math.floor((seen - k.halfWidth - 2) * k.ratio));
    while (to > this.next && !complete(to - 1)) to--;
    while (complete(to)) to++;
    return this.emit(to, seen);
  }

  /** The rest of the output, now that the input's length is known. */
  end(): Float32Array {
    if (this.ended) return new Float32Array(0);
    this.ended = true;
    const k = this.kernel;
    if (k === undefined) return new Float32Array(0);
    const length = this.bufStart + this.bufLength;
    return this.emit(Math.floor(length * k.ratio), length);
  }

  private emit(to: number, length: number): Float32Array {
    const k = this.kernel;
    if (k === undefined || to <= this.next) return new Float32Array(0);
    const out = new Float32Array(to - this.next);
    convolve(k, out, this.next, to, this.buf, this.bufStart, length);
    this.next = to;
    // Keep only the input the next output's left-most tap can reach.
    const keepFrom = Math.max(0, Math.floor(this.next / k.ratio) - k.halfWidth - 1);
    this.drop(keepFrom - this.bufStart);
    return out;
  }

  private append(input: Float32Array): void {
    const needed = this.bufLength + input.length;
    if (needed > this.buf.length) {
      const grown = new Float32Array(Math.max(needed, this.buf.length * 2));
      grown.set(this.buf.subarray(0, this.bufLength));
      this.buf = grown;
    }
    this.buf.set(input, this.bufLength);
    this.bufLength = needed;
  }

  private drop(n: number): void {
    if (n <= 0) return;
    const count = Math.min(n, this.bufLength);
    this.buf.copyWithin(0, count, this.bufLength);
    this.bufLength -= count;
    this.bufStart += count;
  }
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
