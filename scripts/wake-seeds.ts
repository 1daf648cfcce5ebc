/**
 * Does averaging heads help? Trains the full preset's head once per seed on a phrase's cached
 * training data (from an earlier `glasses train-wake`: .cache/wake-data/ and .cache/wake-features/),
 * measures each head alone and the heads' mean logit, by the rule that ships (lowest val FRR within
 * 0.5 FA/h of ordinary audio), on the test voices.
 *
 *   npx tsx scripts/wake-seeds.ts [--phrase hey_quark] [--seeds 1,2,3] [--json]
 *
 * A head is a small network over the shared features, so K heads cost K x ~0.03 ms a frame beside
 * the features' ~1.5 ms (`bench wake`). Takes about 3 minutes a seed on two idle cores.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../firmware-ts/src/config.js';
import { silentLogger } from '../firmware-ts/src/log.js';
import { openModels, useTfjsBackend } from '../firmware-ts/src/main.js';
import { findModel } from '../firmware-ts/src/models/manifest.js';
import { PACKAGE_ROOT } from '../firmware-ts/src/paths.js';
import { readWakeDataIndex } from '../firmware-ts/src/wake-train/data/dataset.js';
import { evaluateHead } from '../firmware-ts/src/wake-train/train/assess.js';
import type { WindowScorer } from '../firmware-ts/src/wake-train/train/evaluate.js';
import { loadOrComputeFeatures } from '../firmware-ts/src/wake-train/train/feature-cache.js';
import { labelWindows } from '../firmware-ts/src/wake-train/train/labels.js';
import { dataDirFor, operatingPoint } from '../firmware-ts/src/wake-train/train/pipeline.js';
import type { ProgressSink } from '../firmware-ts/src/wake-train/train/progress.js';
import { logit, sigmoid } from '../firmware-ts/src/wake-train/train/threshold.js';
import { trainHead, TRAIN_PRESETS } from '../firmware-ts/src/wake-train/train/trainer.js';

const { values } = parseArgs({
  options: {
    phrase: { type: 'string', default: 'hey_quark' },
    seeds: { type: 'string', default: '1,2,3' },
    json: { type: 'boolean', default: false },
  },
});
const seeds = values.seeds.split(',').map(Number);
if (seeds.length < 2 || seeds.some((s) => !Number.isInteger(s))) {
  console.error('wake-seeds: --seeds takes two or more integers, e.g. 1,2,3');
  process.exit(2);
}
const REFRACTORY_MS = 2000;
const cache = join(PACKAGE_ROOT, '.cache');
const dataDir = dataDirFor(cache, values.phrase, 'full', 1);
const index = await readWakeDataIndex(dataDir);
if (index === undefined) {
  console.error(`wake-seeds: no training data in ${dataDir}: run glasses train-wake for the phrase first`);
  process.exit(1);
}
const config = loadConfig({ env: {} });
await useTfjsBackend(config.vision.backend, silentLogger());
const models = await openModels(config);
const features = await loadOrComputeFeatures({
  dataDir,
  index,
  models: {
    melspectrogram: await models.get('melspectrogram', 'wake-features'),
    embedding: await models.get('embedding', 'wake-features'),
  },
  modelSha256: ['melspectrogram', 'embedding'].map(
    (m) => findModel(models.manifest, m, 'wake-features').sha256,
  ),
  cacheDir: join(cache, 'wake-features'),
});
const store = features.store;
const train = labelWindows(index, store, 'train');
const quiet: ProgressSink = { stage() {}, update() {}, done() {} };

const rows: Record<string, unknown>[] = [];
const measure = async (name: string, scorer: WindowScorer): Promise<void> => {
  const op = operatingPoint(
    await evaluateHead(index, store, scorer, { name, refractoryMs: REFRACTORY_MS, progress: quiet }),
  );
  const row = {
    name,
    threshold: op.threshold,
    valFrr: op.val.frr,
    valFaPerHour: op.val.faPerHour,
    testFrr: op.test.frr,
    testFaPerHour: op.test.faPerHour,
  };
  rows.push(row);
  if (!values.json) {
    console.log(
      `${name.padEnd(16)} threshold ${op.threshold.toFixed(6)}  val FRR ${(op.val.frr * 100).toFixed(1)} % at ${op.val.faPerHour} FA/h  test FRR ${(op.test.frr * 100).toFixed(1)} % at ${op.test.faPerHour} FA/h`,
    );
  }
};

const scorers: WindowScorer[] = [];
for (const seed of seeds) {
  const { head } = await trainHead(store, train, { ...TRAIN_PRESETS.full, seed });
  const scorer: WindowScorer = (x, n) => head.predict(x, n);
  scorers.push(scorer);
  await measure(`seed ${seed}`, scorer);
}
await measure(`mean of ${seeds.length}`, async (x, n) => {
  const outs = await Promise.all(scorers.map((s) => s(x, n)));
  const mean = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (const o of outs) sum += logit(o[i] ?? 0);
    mean[i] = sigmoid(sum / outs.length);
  }
  return mean;
});
if (values.json) console.log(JSON.stringify({ phrase: values.phrase, seeds, rows }));
process.exit(0);
