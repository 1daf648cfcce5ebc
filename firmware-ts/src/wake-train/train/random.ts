/** Seeded randomness for training: the same seed gives the same initial weights, batches and samples. */

export { seededRandom } from '../../util/random.js';

/** Standard normal draws (Box-Muller) from a uniform source. */
export function normalFrom(random: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = Math.max(random(), Number.EPSILON);
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Fisher-Yates, in place. */
export function shuffleInPlace(items: Uint32Array, random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = items[i] ?? 0;
    items[i] = items[j] ?? 0;
    items[j] = t;
  }
}

/** `count` distinct indices of 0..n-1, in random order (all of them when count >= n). */
export function sampleIndices(n: number, count: number, random: () => number): Uint32Array {
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const k = Math.min(n, count);
  // Partial Fisher-Yates: only the first k places are drawn.
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    const t = all[i] ?? 0;
    all[i] = all[j] ?? 0;
    all[j] = t;
  }
  return all.slice(0, k);
}

/** A seed derived from a base seed and a label, so each use of randomness has its own stream. */
export function deriveSeed(seed: number, label: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
