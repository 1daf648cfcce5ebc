/**
 * Training a head: class-weighted binary cross-entropy with Adam, then rounds of hard-negative mining.
 *
 * Round 0 trains on every positive window, a random sample of the negative windows, and every
 * negative whose clip is weighted up (the near-misses). Each mining round then scores every negative
 * training window with the current head, keeps the highest-scoring ones (the false accepts of
 * tomorrow) with a fresh random sample, and trains on, at half the learning rate of the round before.
 *
 * Class weights: a window's weight is its clip's (near-misses count more), and the positives are then
 * scaled so that they carry `positiveShare` of the round's total weight.
 *
 * Deterministic for a seed: initial weights, samples and batch order come from seeded streams
 * (random.ts); TF.js's wasm kernels are deterministic on one thread.
 */
import { gatherWindows, HISTORY_ROWS, WINDOW_VALUES, type EmbeddingStore } from './embeddings.js';
import { WakeTrainError } from './errors.js';
import { initHeadWeights, standardisation, WAKE_HEAD_SHAPE } from './head.js';
import type { WindowSet } from './labels.js';
import { deriveSeed, sampleIndices, seededRandom, shuffleInPlace } from './random.js';
import type { WindowPredictor } from './ensemble.js';
import { TfHead } from './tfjs-head.js';

export interface TrainConfig {
  seed: number;
  /** Units per hidden layer (openWakeWord's heads: 64). */
  hidden?: number;
  batchSize: number;
  learningRate: number;
  /** L2 on the dense kernels. */
  weightDecay: number;
  firstRoundEpochs: number;
  miningRounds: number;
  epochsPerRound: number;
  /** Random negative windows per positive window in every round. */
  randomNegativesPerPositive: number;
  /** Hardest negative windows kept per positive window in each mining round. */
  hardNegativesPerPositive: number;
  /** Share of the total loss weight the positives carry. */
  positiveShare: number;
  /**
   * Dropout on the input values, in multiples of 1/256 (0 for none): a dropped value is set to its
   * training mean (0 after standardisation), a kept one is moved away from the mean by 1/(1-p).
   */
  inputDropout: number;
  /** Targets become 1 - s/2 and s/2: keeps the head off the flat ends of the sigmoid. */
  labelSmoothing: number;
}

export const TRAIN_PRESETS: Record<'smoke' | 'full', Omit<TrainConfig, 'seed'>> = {
  smoke: {
    batchSize: 256,
    learningRate: 1e-3,
    weightDecay: 1e-4,
    firstRoundEpochs: 8,
    miningRounds: 1,
    epochsPerRound: 4,
    randomNegativesPerPositive: 4,
    hardNegativesPerPositive: 2,
    positiveShare: 0.5,
    inputDropout: 0.5,
    labelSmoothing: 0,
  },
  // Three times the negative audio of before: more of it sampled each round, and one more mining
  // round, so the head meets more of it in training.
  full: {
    batchSize: 512,
    learningRate: 1e-3,
    weightDecay: 1e-4,
    firstRoundEpochs: 8,
    miningRounds: 4,
    epochsPerRound: 4,
    randomNegativesPerPositive: 6,
    hardNegativesPerPositive: 3,
    positiveShare: 0.5,
    inputDropout: 0.5,
    labelSmoothing: 0,
  },
};

export interface EpochRecord {
  round: number;
  epoch: number;
  /** Mean weighted loss over the epoch's batches. */
  loss: number;
  windows: number;
}

export interface RoundRecord {
  round: number;
  positives: number;
  negatives: number;
  /** Mining rounds: how many of the negatives were the hardest, and the lowest score among them. */
  hardNegatives?: number;
  hardestScoreFloor?: number;
  learningRate: number;
}

export interface TrainProgress {
  step: number;
  steps: number;
  round: number;
  loss: number;
}

export interface TrainResult {
  head: TfHead;
  epochs: EpochRecord[];
  rounds: RoundRecord[];
}

/** Scores the windows starting at `rows` with the head, in chunks. */
export async function scoreRows(
  head: WindowPredictor,
  store: EmbeddingStore,
  rows: Uint32Array,
  chunk = 4096,
): Promise<Float32Array> {
  const out = new Float32Array(rows.length);
  const buffer = new Float32Array(chunk * WINDOW_VALUES);
  for (let start = 0; start < rows.length; start += chunk) {
    const part = rows.subarray(start, Math.min(rows.length, start + chunk));
    out.set(await head.predict(gatherWindows(store, part, buffer), part.length), start);
  }
  return out;
}

/** The indices (into `scores`) of the `count` highest scores. */
export function topIndices(scores: Float32Array, count: number): Uint32Array {
  const order = Uint32Array.from(scores.keys());
  // Ties broken by index, so the choice does not depend on the sort's stability.
  order.sort((a, b) => (scores[b] ?? 0) - (scores[a] ?? 0) || a - b);
  return order.slice(0, Math.min(count, order.length));
}

function roundsOf(config: TrainConfig): number {
  return 1 + config.miningRounds;
}

export async function trainHead(
  store: EmbeddingStore,
  train: { positives: WindowSet; negatives: WindowSet },
  config: TrainConfig,
  hooks: { onProgress?: (p: TrainProgress) => void; signal?: AbortSignal } = {},
): Promise<TrainResult> {
  const { positives, negatives } = train;
  const p = positives.rows.length;
  if (p === 0) throw new Error('no positive training windows');
  if (negatives.rows.length === 0) throw new Error('no negative training windows');
  // Standardised with the newest embedding of every training window: each clip's rows, once or so.
  const newest = Uint32Array.from([...positives.rows, ...negatives.rows], (r) => r + HISTORY_ROWS);
  const standardise = standardisation(store.data, newest, WAKE_HEAD_SHAPE.embeddingDim);
  const shape = { ...WAKE_HEAD_SHAPE, hidden: config.hidden ?? WAKE_HEAD_SHAPE.hidden };
  const head = new TfHead(
    initHeadWeights(shape, deriveSeed(config.seed, 'init'), standardise),
    config.learningRate,
  );
  const epochs: EpochRecord[] = [];
  const rounds: RoundRecord[] = [];
  // Negatives weighted up (near-misses) are in every round.
  const alwaysIn: number[] = [];
  negatives.weights.forEach((w, i) => {
    if (w > 1) alwaysIn.push(i);
  });
  const randomCount = Math.round(config.randomNegativesPerPositive * p);
  const hardCount = Math.round(config.hardNegativesPerPositive * p);

  // Steps are known in advance only roughly (mined sets vary in overlap): the bound is what is shown.
  const roundSize = (hard: number): number =>
    p + Math.min(negatives.rows.length, alwaysIn.length + randomCount + hard);
  const stepsPerEpoch = (n: number): number => Math.ceil(n / config.batchSize);
  let steps = stepsPerEpoch(roundSize(0)) * config.firstRoundEpochs;
  for (let r = 1; r < roundsOf(config); r++)
    steps += stepsPerEpoch(roundSize(hardCount)) * config.epochsPerRound;
  let step = 0;

  try {
    for (let round = 0; round < roundsOf(config); round++) {
      const random = seededRandom(deriveSeed(config.seed, `round ${round}`));
      const chosen = new Set<number>(alwaysIn);
      let hardRecord: Pick<RoundRecord, 'hardNegatives' | 'hardestScoreFloor'> = {};
      if (round > 0) {
        const scores = await scoreRows(head, store, negatives.rows);
        const hardest = topIndices(scores, hardCount);
        for (const i of hardest) chosen.add(i);
        hardRecord = {
          hardNegatives: hardest.length,
          hardestScoreFloor: scores[hardest[hardest.length - 1] ?? 0] ?? 0,
        };
      }
      for (const i of sampleIndices(negatives.rows.length, randomCount, random)) chosen.add(i);
      const negIdx = Uint32Array.from([...chosen].sort((a, b) => a - b));

      // The round's windows: positives first, then the chosen negatives.
      const n = p + negIdx.length;
      const rows = new Uint32Array(n);
      const labels = new Float32Array(n);
      const weights = new Float32Array(n);
      rows.set(positives.rows);
      labels.fill(1, 0, p);
      weights.set(positives.weights);
      negIdx.forEach((j, k) => {
        rows[p + k] = negatives.rows[j] ?? 0;
        weights[p + k] = negatives.weights[j] ?? 0;
      });
      let posWeight = 0;
      let negWeight = 0;
      for (let i = 0; i < n; i++) {
        if (i < p) posWeight += weights[i] ?? 0;
        else negWeight += weights[i] ?? 0;
      }
      const scale = ((config.positiveShare / (1 - config.positiveShare)) * negWeight) / posWeight;
      for (let i = 0; i < p; i++) weights[i] = (weights[i] ?? 0) * scale;

      const learningRate = config.learningRate * 0.5 ** round;
      head.resetOptimizer(learningRate);
      rounds.push({ round, positives: p, negatives: negIdx.length, ...hardRecord, learningRate });

      const order = Uint32Array.from(rows.keys());
      const bx = new Float32Array(config.batchSize * WINDOW_VALUES);
      const by = new Float32Array(config.batchSize);
      const bw = new Float32Array(config.batchSize);
      const batchRows = new Uint32Array(config.batchSize);
      const epochCount = round === 0 ? config.firstRoundEpochs : config.epochsPerRound;
      for (let epoch = 0; epoch < epochCount; epoch++) {
        shuffleInPlace(order, random);
        let lossSum = 0;
        let batches = 0;
        for (let start = 0; start < n; start += config.batchSize) {
          hooks.signal?.throwIfAborted();
          const count = Math.min(config.batchSize, n - start);
          for (let k = 0; k < count; k++) {
            const i = order[start + k] ?? 0;
            batchRows[k] = rows[i] ?? 0;
            by[k] = (labels[i] ?? 0) === 1 ? 1 - config.labelSmoothing / 2 : config.labelSmoothing / 2;
            bw[k] = weights[i] ?? 0;
          }
          gatherWindows(store, batchRows.subarray(0, count), bx);
          if (config.inputDropout > 0)
            dropout(bx, count * WINDOW_VALUES, standardise.mean, config.inputDropout, random);
          const loss = await head.trainStep(
            { x: bx, y: by, w: bw, count },
            { weightDecay: config.weightDecay },
          );
          if (!Number.isFinite(loss)) {
            throw new WakeTrainError(
              'E_WAKE_TRAIN',
              `training diverged: loss ${loss} in round ${round}, epoch ${epoch}`,
              { details: { round, epoch } },
            );
          }
          lossSum += loss;
          batches++;
          step++;
          hooks.onProgress?.({ step, steps: Math.max(steps, step), round, loss });
        }
        epochs.push({ round, epoch, loss: lossSum / Math.max(1, batches), windows: n });
      }
    }
  } catch (err) {
    head.dispose();
    throw err;
  }
  return { head, epochs, rounds };
}

/**
 * Input dropout on raw windows: each value is dropped with probability p (quantised to 1/256: four
 * decisions per 32-bit draw, as a draw per value would double the time of a training step).
 */
export function dropout(
  x: Float32Array,
  count: number,
  mean: Float32Array,
  p: number,
  random: () => number,
): void {
  const cut = Math.round(p * 256);
  const keep = 1 / (1 - cut / 256);
  const dim = mean.length;
  let bits = 0;
  for (let i = 0; i < count; i++) {
    if ((i & 3) === 0) bits = (random() * 4294967296) >>> 0;
    const m = mean[i % dim] ?? 0;
    const drop = (bits & 0xff) < cut;
    bits >>>= 8;
    x[i] = drop ? m : m + ((x[i] ?? 0) - m) * keep;
  }
}
