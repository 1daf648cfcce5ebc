/**
 * The TF.js head: its hand-written gradients against finite differences of the loss computed in
 * float64, training on a toy problem, hard-negative selection, and determinism for a seed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../../firmware-ts/src/vision/detector/tfjs.js';
import { buildStore, HISTORY_ROWS } from '../../../firmware-ts/src/wake-train/train/embeddings.js';
import {
  initHeadWeights,
  PARAM_NAMES,
  type HeadShape,
  type HeadWeights,
} from '../../../firmware-ts/src/wake-train/train/head.js';
import type { WindowSet } from '../../../firmware-ts/src/wake-train/train/labels.js';
import { sampleIndices, seededRandom } from '../../../firmware-ts/src/wake-train/train/random.js';
import { TfHead } from '../../../firmware-ts/src/wake-train/train/tfjs-head.js';
import {
  dropout,
  topIndices,
  trainHead,
  TRAIN_PRESETS,
} from '../../../firmware-ts/src/wake-train/train/trainer.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** Weighted BCE of the head over a batch, in float64 (weights normalised to sum 1). */
function loss64(p: HeadWeights, x: Float32Array, y: Float32Array, w: Float32Array): number {
  const { hidden: h } = p.shape;
  const d = x.length / y.length;
  const dense = (inp: number[], k: ArrayLike<number>, b: ArrayLike<number>, n: number): number[] =>
    Array.from({ length: n }, (_, j) => inp.reduce((s, v, i) => s + v * k[i * n + j]!, b[j]!));
  const normRelu = (a: number[], g: ArrayLike<number>, be: ArrayLike<number>): number[] => {
    const m = a.reduce((s, v) => s + v, 0) / a.length;
    const v = a.reduce((s, q) => s + (q - m) ** 2, 0) / a.length;
    return a.map((q, i) => Math.max(0, ((q - m) / Math.sqrt(v + 1e-5)) * g[i]! + be[i]!));
  };
  const wsum = w.reduce((a, b) => a + b, 0);
  const e = p.shape.embeddingDim;
  let total = 0;
  for (let b = 0; b < y.length; b++) {
    const xi = Array.from(
      x.subarray(b * d, (b + 1) * d),
      (v, i) => (v - p.inputMean[i % e]!) * p.inputScale[i % e]!,
    );
    const r1 = normRelu(dense(xi, p.w1, p.b1, h), p.g1, p.be1);
    const r2 = normRelu(dense(r1, p.w2, p.b2, h), p.g2, p.be2);
    const z = dense(r2, p.w3, p.b3, 1)[0]!;
    total += (w[b]! / wsum) * (Math.max(z, 0) - z * y[b]! + Math.log1p(Math.exp(-Math.abs(z))));
  }
  return total;
}

describe('TfHead gradients', () => {
  it('match central finite differences of the float64 loss for every parameter', async () => {
    const shape: HeadShape = { windowEmbeddings: 2, embeddingDim: 3, hidden: 4 };
    const weights = initHeadWeights(shape, 3, { mean: f(0.2, -0.5, 1), scale: f(2, 0.5, 1.5) });
    // Non-trivial biases and gains, so no gradient is zero by symmetry.
    const random = seededRandom(9);
    for (const k of ['b1', 'g1', 'be1', 'b2', 'g2', 'be2', 'b3'] as const) {
      weights[k] = weights[k].map((v) => v + random() - 0.5);
    }
    const x = Float32Array.from({ length: 5 * 6 }, () => random() * 2 - 1);
    const y = f(1, 0, 1, 0, 0);
    const w = f(1, 2, 0.5, 1, 3);
    const head = new TfHead(weights, 1e-3);
    const { loss, grads } = head.gradients({ x, y, w, count: 5 });
    expect((await loss.data())[0]).toBeCloseTo(loss64(weights, x, y, w), 5);
    let worst = 0;
    let largest = 0;
    for (const name of PARAM_NAMES) {
      const g = await grads[name].data();
      expect(g.length, name).toBe(weights[name].length);
      for (let i = 0; i < g.length; i++) {
        const at = (delta: number): number => {
          const p: HeadWeights = {
            ...weights,
            [name]: Float64Array.from(weights[name]) as unknown as Float32Array,
          };
          (p[name] as unknown as Float64Array)[i]! += delta;
          return loss64(p, x, y, w);
        };
        const numeric = (at(1e-4) - at(-1e-4)) / 2e-4;
        worst = Math.max(worst, Math.abs(numeric - g[i]!));
        largest = Math.max(largest, Math.abs(numeric));
      }
      grads[name].dispose();
    }
    loss.dispose();
    head.dispose();
    expect(largest).toBeGreaterThan(0.01);
    expect(worst).toBeLessThan(1e-5);
  });
});

function f(...v: number[]): Float32Array {
  return Float32Array.from(v);
}

/**
 * A toy store: clips whose embeddings are noise, with positives carrying a pattern in one
 * embedding of their window. 20 clips of 30 frames.
 */
function toyData(): { store: ReturnType<typeof buildStore>; positives: WindowSet; negatives: WindowSet } {
  const random = seededRandom(5);
  const perClip: Float32Array[] = [];
  const pos: number[] = [];
  const neg: number[] = [];
  const history = Float32Array.from({ length: HISTORY_ROWS * 96 }, () => random() - 0.5);
  for (let c = 0; c < 20; c++) {
    const e = Float32Array.from({ length: 30 * 96 }, () => random() - 0.5);
    if (c % 2 === 0) for (let d = 0; d < 96; d++) e[20 * 96 + d] = d % 2 === 0 ? 2 : -2;
    perClip.push(e);
  }
  const store = buildStore(history, perClip);
  store.clips.forEach((span, c) => {
    for (let frame = 6; frame <= span.frames; frame++) {
      const row = span.row + frame - 1;
      // The pattern sits at clip row 20 (store row span.row + 15 + 20): windows whose newest row it is are positives.
      if (c % 2 === 0 && frame === 21) pos.push(row);
      else if (c % 2 === 1) neg.push(row);
    }
  });
  const set = (rows: number[], label: 0 | 1): WindowSet => ({
    rows: Uint32Array.from(rows),
    labels: new Uint8Array(rows.length).fill(label),
    weights: new Float32Array(rows.length).fill(1),
    clips: new Uint32Array(rows.length),
  });
  return { store, positives: set(pos, 1), negatives: set(neg, 0) };
}

describe('trainHead', () => {
  it('learns a separable toy problem, with mining rounds, the same way twice for a seed', async () => {
    const { store, positives, negatives } = toyData();
    const config = { ...TRAIN_PRESETS.smoke, seed: 7, batchSize: 32, firstRoundEpochs: 6, epochsPerRound: 3 };
    const a = await trainHead(store, { positives, negatives }, config);
    const b = await trainHead(store, { positives, negatives }, config);
    expect(a.epochs.length).toBe(6 + 3 * config.miningRounds);
    expect(a.epochs[a.epochs.length - 1]!.loss).toBeLessThan(a.epochs[0]!.loss / 3);
    expect(a.rounds[1]!.hardNegatives).toBeGreaterThan(0);
    const wa = await a.head.weights();
    const wb = await b.head.weights();
    for (const name of PARAM_NAMES) expect(wb[name], name).toEqual(wa[name]);
    const { scoreRows } = await import('../../../firmware-ts/src/wake-train/train/trainer.js');
    const posScores = await scoreRows(a.head, store, positives.rows);
    const negScores = await scoreRows(a.head, store, negatives.rows);
    expect(Math.min(...posScores)).toBeGreaterThan(Math.max(...negScores));
    a.head.dispose();
    b.head.dispose();
  });

  it('refuses a training set with no positives', async () => {
    const { store, negatives } = toyData();
    const none: WindowSet = {
      rows: new Uint32Array(0),
      labels: new Uint8Array(0),
      weights: new Float32Array(0),
      clips: new Uint32Array(0),
    };
    await expect(
      trainHead(store, { positives: none, negatives }, { ...TRAIN_PRESETS.smoke, seed: 1 }),
    ).rejects.toThrow(/no positive/);
  });
});

describe('sampling', () => {
  it('topIndices keeps the highest scores, ties by index', () => {
    expect([...topIndices(f(0.1, 0.9, 0.5, 0.9, 0.2), 3)]).toEqual([1, 3, 2]);
    expect([...topIndices(f(0.1), 5)]).toEqual([0]);
  });

  it('sampleIndices draws distinct indices, the same for a seed', () => {
    const a = sampleIndices(100, 30, seededRandom(1));
    expect(new Set(a).size).toBe(30);
    expect(Math.max(...a)).toBeLessThan(100);
    expect([...sampleIndices(100, 30, seededRandom(1))]).toEqual([...a]);
    expect([...sampleIndices(100, 30, seededRandom(2))]).not.toEqual([...a]);
    expect(sampleIndices(5, 10, seededRandom(1)).length).toBe(5);
  });
});

describe('dropout', () => {
  it('sets about p of the values to their mean and scales the rest away from it by 1/(1-p)', () => {
    const mean = f(10, -5);
    const x = Float32Array.from({ length: 20_000 }, (_, i) => (i % 2 === 0 ? 12 : -4));
    dropout(x, x.length, mean, 0.5, seededRandom(3));
    const dropped = x.filter((v, i) => v === mean[i % 2]).length;
    expect(dropped / x.length).toBeGreaterThan(0.47);
    expect(dropped / x.length).toBeLessThan(0.53);
    // Kept: 10 + (12 - 10) * 2 = 14 and -5 + (-4 + 5) * 2 = -3.
    expect(new Set(x)).toEqual(new Set([10, 14, -5, -3]));
  });

  it('leaves the input alone at p = 0 and only touches the first count values', () => {
    const x = f(1, 2, 3, 4);
    dropout(x, 4, f(0), 0, seededRandom(1));
    expect([...x]).toEqual([1, 2, 3, 4]);
    const y = f(1, 2, 3, 4);
    dropout(y, 2, f(0), 0.99, seededRandom(1));
    expect([...y.subarray(2)]).toEqual([3, 4]);
  });
});
