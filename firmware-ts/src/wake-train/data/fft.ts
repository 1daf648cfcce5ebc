/**
 * A radix-2 complex FFT and FFT convolution, for the data generator's signal processing (formant
 * warping, room impulse responses). Float64 throughout: the clips are written as 16-bit audio, so
 * its rounding never shows.
 */

/** In-place FFT of `re` + i`im` (length a power of two); `inverse` includes the 1/n scale. */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (n !== im.length || (n & (n - 1)) !== 0) throw new Error(`fft: length ${n} is not a power of two`);
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const tr = re[i] ?? 0;
      re[i] = re[j] ?? 0;
      re[j] = tr;
      const ti = im[i] ?? 0;
      im[i] = im[j] ?? 0;
      im[j] = ti;
    }
  }
  const sign = inverse ? 1 : -1;
  for (let len = 2; len <= n; len <<= 1) {
    const angle = (sign * 2 * Math.PI) / len;
    const wr = Math.cos(angle);
    const wi = Math.sin(angle);
    const half = len >> 1;
    for (let start = 0; start < n; start += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < half; k++) {
        const a = start + k;
        const b = a + half;
        const br = re[b] ?? 0;
        const bi = im[b] ?? 0;
        const xr = br * cr - bi * ci;
        const xi = br * ci + bi * cr;
        re[b] = (re[a] ?? 0) - xr;
        im[b] = (im[a] ?? 0) - xi;
        re[a] = (re[a] ?? 0) + xr;
        im[a] = (im[a] ?? 0) + xi;
        const nr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = nr;
      }
    }
  }
  if (inverse) {
    for (let i = 0; i < n; i++) {
      re[i] = (re[i] ?? 0) / n;
      im[i] = (im[i] ?? 0) / n;
    }
  }
}

export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

/**
 * `x` convolved with `h`, cut to x's length (overlap-add, blocks of a few times h's length): what a
 * room does to a sound, with the tail past the end of `x` dropped.
 */
export function convolve(x: Float32Array, h: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  if (h.length === 0 || x.length === 0) return out;
  const size = nextPowerOfTwo(Math.max(4 * h.length, 1024));
  const hop = size - h.length + 1;
  const hr = new Float64Array(size);
  const hi = new Float64Array(size);
  hr.set(h);
  fft(hr, hi);
  const br = new Float64Array(size);
  const bi = new Float64Array(size);
  for (let start = 0; start < x.length; start += hop) {
    br.fill(0);
    bi.fill(0);
    const end = Math.min(x.length, start + hop);
    for (let i = start; i < end; i++) br[i - start] = x[i] ?? 0;
    fft(br, bi);
    for (let k = 0; k < size; k++) {
      const r = (br[k] ?? 0) * (hr[k] ?? 0) - (bi[k] ?? 0) * (hi[k] ?? 0);
      bi[k] = (br[k] ?? 0) * (hi[k] ?? 0) + (bi[k] ?? 0) * (hr[k] ?? 0);
      br[k] = r;
    }
    fft(br, bi, true);
    const stop = Math.min(x.length, start + size);
    for (let i = start; i < stop; i++) out[i] = (out[i] ?? 0) + (br[i - start] ?? 0);
  }
  return out;
}
