/**
 * `glasses train-wake` end to end: data -> features -> labels -> training -> threshold -> export ->
 * verification -> report. Models and loaders come in through `deps` (the command builds them), so
 * nothing here opens an onnxruntime session of its own.
 */
import { dirname, join, relative } from 'node:path';
import type { InferenceModel } from '../../inference/model.js';
import { OWN_MODEL_PACKAGE, type ModelEntry } from '../../models/manifest.js';
import type { WakeFeatureModels } from '../../wake/features.js';
import { writeFileAtomic } from '../../util/atomic-file.js';
import type { DataSize, WakeDataIndex } from '../data/dataset.js';
import { generateWakeData } from '../data/generate.js';
import type { SizePlan } from '../data/plan.js';
import { renderDetPng } from '../det.js';
import { FIRST_SCORED_FRAME, windowRow, type EmbeddingStore } from './embeddings.js';
import { WakeTrainError } from './errors.js';
import { evaluateHead } from './assess.js';
import { clipsOf, modelScorer, type WindowScorer } from './evaluate.js';
import { loadExported, verifyExport, writeHeadOnnx, type Verification } from './export.js';
import { loadOrComputeFeatures } from './feature-cache.js';
import type { FeatureWorkerData } from './feature-worker.js';
import { labelWindows, POSITIVE_AFTER_END_MS, type LabelledSplit, type Split } from './labels.js';
import type { ProgressSink } from './progress.js';
import { forReport, splitCounts, type HeadEvaluation, type TrainReport } from './report.js';
import { THRESHOLD_RULE } from './threshold.js';
import {
  trainHead,
  TRAIN_PRESETS,
  type TrainConfig,
  type TrainProgress,
  type TrainResult,
} from './trainer.js';
import { ENSEMBLE_HEADS, HeadEnsemble, MAX_ENSEMBLE_HEADS, type WindowPredictor } from './ensemble.js';
import type { TfHead } from './tfjs-head.js';
import { combinedScorer, stage1Threshold, STAGE1_MAX_FRR, STAGE1_RULE, trainVerifier } from './verifier.js';

export interface TrainWakeOptions {
  /** The words, e.g. "hey quark". */
  phrase: string;
  /** Manifest name and file stem, e.g. hey_quark. */
  name: string;
  seed: number;
  size: DataSize;
  /** Where the .onnx, .report.json and .det.png go. */
  outDir: string;
  /** `source.path` of the manifest entry: the file's path in the repository. */
  sourcePath: string;
  /** Root of the caches: data under wake-data/, features under wake-features/. */
  cacheDir: string;
  /** Paths in the report are relative to this (the package root), so a committed report names no machine. */
  rootDir: string;
  /** The detector's refractory period, for counting false accepts as the runtime would. */
  refractoryMs: number;
  progress: ProgressSink;
  signal?: AbortSignal;
  /** Overrides of the data plan and training settings (tests). */
  dataPlan?: Partial<SizePlan>;
  train?: Partial<Omit<TrainConfig, 'seed'>>;
  /** Heads trained from seeds seed, seed + 1, ..., averaged (ensemble.ts); default ENSEMBLE_HEADS[size]. */
  heads?: number;
}

export interface TrainWakeDeps {
  featureModels: WakeFeatureModels;
  /** Worker threads for the features, each opening the feature models itself (feature-worker.ts). */
  featureWorkers?: { count: number; models: FeatureWorkerData };
  /** sha256 of the melspectrogram and embedding files: part of the feature cache key. */
  featureModelSha256: readonly string[];
  /** The runtime's ONNX loader over `outDir` (checks size, sha256 and tensor names against the entry). */
  loadHead: (entry: ModelEntry) => Promise<InferenceModel>;
  /** openWakeWord's head for the same words, to compare on the same audio. */
  pretrained?: { name: string; model: InferenceModel; configuredThreshold: number };
  tfjsBackend: string;
  packageVersion: string;
  licence: string;
}

const SPLITS: readonly Split[] = ['train', 'val', 'test'];

export function dataDirFor(cacheDir: string, phrase: string, size: DataSize, seed: number): string {
  return join(
    cacheDir,
    'wake-data',
    `${phrase
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')}-${size}-seed${seed}`,
  );
}

export async function trainWake(options: TrainWakeOptions, deps: TrainWakeDeps): Promise<TrainReport> {
  const { progress, signal } = options;
  const started = performance.now();
  const seconds = { data: 0, features: 0, training: 0, evaluation: 0, export: 0, total: 0 };
  const lap = (from: number): number => Math.round((performance.now() - from) / 100) / 10;

  // Data.
  let t = performance.now();
  const dataDir = dataDirFor(options.cacheDir, options.phrase, options.size, options.seed);
  progress.stage('data', dataDir);
  const index = await generateWakeData({
    phrase: options.phrase,
    seed: options.seed,
    size: options.size,
    dir: dataDir,
    onProgress: (p) => {
      progress.update(p.done, p.total, p.stage);
    },
    ...(signal === undefined ? {} : { signal }),
    ...(options.dataPlan === undefined ? {} : { plan: options.dataPlan }),
  });
  seconds.data = lap(t);
  progress.done(`${index.clips.length} clips`);

  // Features.
  t = performance.now();
  progress.stage('features');
  const features = await loadOrComputeFeatures({
    dataDir,
    index,
    models: deps.featureModels,
    modelSha256: deps.featureModelSha256,
    cacheDir: join(options.cacheDir, 'wake-features'),
    ...(deps.featureWorkers === undefined ? {} : { workers: deps.featureWorkers }),
    onProgress: (done, total) => {
      progress.update(done, total, 's of audio');
    },
    ...(signal === undefined ? {} : { signal }),
  });
  seconds.features = lap(t);
  progress.done(features.cached ? 'from the cache' : `cached as ${features.key}`);
  const store = features.store;

  const labelled = {} as Record<Split, LabelledSplit>;
  for (const split of SPLITS) labelled[split] = labelWindows(index, store, split);
  checkSplits(index, labelled);

  // Training.
  t = performance.now();
  const config: TrainConfig = { ...TRAIN_PRESETS[options.size], ...options.train, seed: options.seed };
  progress.stage(
    'training',
    `${labelled.train.positives.rows.length} positive and ${labelled.train.negatives.rows.length} negative windows`,
  );
  const headCount = options.heads ?? ENSEMBLE_HEADS[options.size];
  if (!Number.isInteger(headCount) || headCount < 1 || headCount > MAX_ENSEMBLE_HEADS)
    throw new WakeTrainError(
      'E_WAKE_TRAIN',
      `${options.name}: heads must be 1 to ${MAX_ENSEMBLE_HEADS}, not ${headCount}`,
      { details: { heads: headCount } },
    );
  const trainedHeads: { seed: number; result: TrainResult }[] = [];
  try {
    for (let k = 0; k < headCount; k++) {
      const seed = (options.seed + k) >>> 0;
      const result = await trainOne(options, store, labelled.train, { ...config, seed }, (p) => {
        progress.update(
          p.step,
          p.steps,
          'steps',
          `${headCount > 1 ? `head ${k + 1} of ${headCount}, ` : ''}round ${p.round}, loss ${p.loss.toFixed(4)}`,
        );
      });
      trainedHeads.push({ seed, result });
    }
  } catch (err) {
    for (const t of trainedHeads) t.result.head.dispose();
    throw err;
  }
  const head = new HeadEnsemble(trainedHeads.map((t) => t.result.head));
  seconds.training = lap(t);
  progress.done(
    trainedHeads
      .map((t) => `loss ${t.result.epochs[t.result.epochs.length - 1]?.loss.toFixed(4) ?? '?'}`)
      .join(', '),
  );

  let verifierHead: TfHead | undefined;
  try {
    // Evaluation: the same function for every head, the pair and the pretrained one.
    t = performance.now();
    const assess = (name: string, scorer: WindowScorer, configured?: number): Promise<HeadEvaluation> =>
      evaluateHead(index, store, scorer, {
        name,
        refractoryMs: options.refractoryMs,
        progress,
        ...(configured === undefined ? {} : { configuredThreshold: configured }),
        ...(signal === undefined ? {} : { signal }),
      });
    const stage1Scorer: WindowScorer = (x, n) => head.predict(x, n);
    const alone = await assess(options.name, stage1Scorer);
    seconds.evaluation = lap(t);

    // The second stage, trained on what stage 1 lets through at a threshold that finds nearly all.
    t = performance.now();
    const threshold1 = stage1Threshold(alone.det.val);
    progress.stage('verifier', `stage 1 at ${threshold1.toPrecision(6)} (val FRR <= ${STAGE1_MAX_FRR})`);
    const verifierTraining = await trainVerifier(store, labelled.train, head, threshold1, config, {
      onProgress: (p) => {
        progress.update(p.step, p.steps, 'steps', `round ${p.round}, loss ${p.loss.toFixed(4)}`);
      },
      ...(signal === undefined ? {} : { signal }),
    });
    verifierHead = verifierTraining.result.head;
    const second = verifierHead;
    seconds.training += lap(t);
    progress.done(`${verifierTraining.hardNegatives} hard negatives from stage 1`);
    t = performance.now();
    const pair = await assess(
      `${options.name} + verifier`,
      combinedScorer(stage1Scorer, (x, n) => second.predict(x, n), threshold1),
    );
    // The pair ships only if it beats the head alone on val (both under the FA budget there).
    // The threshold that ships is the one within the FA budget on ordinary audio (speech, noise,
    // music): near-miss phrases are a dense adversarial set, whose share that fires is reported
    // apart, and a false wake costs a chime, never an order. The pair ships only if it beats the
    // head alone on val by that rule.
    const at = operatingPoint;
    const usePair = at(pair).budgetMet && (!at(alone).budgetMet || at(pair).val.frr < at(alone).val.frr);
    const ours = usePair ? pair : alone;
    const pretrained =
      deps.pretrained === undefined
        ? undefined
        : await assess(
            deps.pretrained.name,
            modelScorer(deps.pretrained.model),
            deps.pretrained.configuredThreshold,
          );
    seconds.evaluation += lap(t);

    // Export and verification.
    t = performance.now();
    progress.stage('export');
    const metadata = {
      phrase: options.phrase,
      seed: String(options.seed),
      heads: String(headCount),
      data: `${options.size} seed ${options.seed} generator v${index.version}`,
    };
    const common = {
      phrase: options.phrase,
      outDir: options.outDir,
      packageVersion: deps.packageVersion,
      licence: deps.licence,
    };
    const headThreshold = usePair ? threshold1 : at(alone).threshold;
    const exported = await writeHeadOnnx(await head.weights(), {
      ...common,
      name: options.name,
      sourcePath: options.sourcePath,
      threshold: headThreshold,
      metadata: { ...metadata, threshold: String(headThreshold), stage: usePair ? '1 of 2' : '1 of 1' },
    });
    const verifierName = `${options.name}_verifier`;
    const exportedVerifier = usePair
      ? await writeHeadOnnx(await second.weights(), {
          ...common,
          name: verifierName,
          sourcePath: join(dirname(options.sourcePath), `${verifierName}.onnx`),
          threshold: at(pair).threshold,
          verifies: options.name,
          metadata: { ...metadata, threshold: String(at(pair).threshold), stage: '2 of 2' },
        })
      : undefined;
    const valRows = allWindowRows(index, store, 'val');
    const check = async (model: WindowPredictor, file: typeof exported): Promise<Verification> => {
      const onnx = await loadExported(deps.loadHead, file);
      try {
        return await verifyExport(model, onnx, store, valRows, {
          onProgress: (done, total) => {
            progress.update(done, total, 'validation windows');
          },
          ...(signal === undefined ? {} : { signal }),
        });
      } finally {
        await onnx.release();
      }
    };
    const verification = await check(head, exported);
    const verifierVerification =
      exportedVerifier === undefined ? undefined : await check(second, exportedVerifier);
    seconds.export = lap(t);
    progress.done(
      `max |ONNX - TF.js| ${verification.maxAbsDiff.toExponential(2)}${verifierVerification === undefined ? '' : ` and ${verifierVerification.maxAbsDiff.toExponential(2)} (verifier)`} on ${verification.windows} windows`,
    );

    const files = {
      onnx: exported.file,
      report: join(options.outDir, `${options.name}.report.json`),
      det: join(options.outDir, `${options.name}.det.png`),
    };
    seconds.total = lap(started);
    const report: TrainReport = {
      name: options.name,
      phrase: options.phrase,
      seed: options.seed,
      size: options.size,
      createdWith: {
        package: OWN_MODEL_PACKAGE,
        version: deps.packageVersion,
        node: process.version,
        tfjsBackend: deps.tfjsBackend,
      },
      data: {
        dir: relative(options.rootDir, dataDir),
        generatorVersion: index.version,
        tools: index.tools,
        nearMisses: index.nearMisses,
        splits: {
          train: splitCounts(index, 'train', labelled.train),
          val: splitCounts(index, 'val', labelled.val),
          test: splitCounts(index, 'test', labelled.test),
        },
      },
      features: { cacheKey: features.key, cached: features.cached },
      labels: {
        positiveWindows: `positive clips: the windows scored from the phrase end to ${POSITIVE_AFTER_END_MS} ms after it; the rest of the clip is not trained on`,
        negativeWindows: `every window of every negative clip (the first ${FIRST_SCORED_FRAME - 1} frames excepted, as the detector skips them), weighted by the clip's weight`,
      },
      training: {
        config,
        heads: trainedHeads.map((t) => ({
          seed: t.seed,
          rounds: t.result.rounds,
          epochs: t.result.epochs,
        })),
      },
      thresholdRule: THRESHOLD_RULE,
      refractoryMs: options.refractoryMs,
      head: forReport(ours),
      stages: {
        rule: `${STAGE1_RULE}; verifier: ${THRESHOLD_RULE}, false accepts counted on ordinary audio (near-misses reported apart); the pair ships when its val FRR is lower than the head's alone by that rule`,
        shipped: usePair ? 'head + verifier' : 'head alone',
        stage1Threshold: threshold1,
        headAlone: forReport(alone),
        pair: forReport(pair),
        verifierTraining: {
          hardNegatives: verifierTraining.hardNegatives,
          mineFrom: verifierTraining.mineFrom,
          rounds: verifierTraining.result.rounds,
          epochs: verifierTraining.result.epochs,
        },
        ...(exportedVerifier === undefined || verifierVerification === undefined
          ? {}
          : { verifier: exportedVerifier.entry, verifierVerification }),
      },
      ...(pretrained === undefined ? {} : { pretrained: forReport(pretrained) }),
      verification,
      model: exported.entry,
      files: {
        onnx: relative(options.rootDir, files.onnx),
        report: relative(options.rootDir, files.report),
        det: relative(options.rootDir, files.det),
      },
      seconds,
    };
    await writeFileAtomic(files.report, `${JSON.stringify(report, null, 2)}\n`);
    await renderDetPng(
      [
        { label: usePair ? 'test (head + verifier)' : 'test', points: ours.det.test },
        { label: usePair ? 'val (head + verifier)' : 'val', points: ours.det.val },
        ...(ours.ordinaryAudio === undefined
          ? []
          : [{ label: 'test w/o near-misses', points: ours.ordinaryAudio.det.test }]),
        ...(usePair ? [{ label: 'test, head alone', points: alone.det.test }] : []),
        ...(pretrained === undefined
          ? []
          : [{ label: `${pretrained.name} test`, points: pretrained.det.test }]),
      ],
      {
        marked: {
          threshold: at(ours).threshold,
          frr: at(ours).test.frr,
          faPerHour: at(ours).test.faPerHour,
        },
        title: `${options.name} ("${options.phrase}"): threshold chosen on val, marked on test`,
      },
      files.det,
    );
    return report;
  } finally {
    head.dispose();
    verifierHead?.dispose();
  }
}

/**
 * The operating point that ships: chosen on val with false accepts counted on ordinary audio, or,
 * for an evaluation without that part, over all negatives.
 */
export function operatingPoint(h: HeadEvaluation): {
  threshold: number;
  budgetMet: boolean;
  val: HeadEvaluation['val'];
  test: HeadEvaluation['test'];
} {
  return h.ordinaryAudio ?? h;
}

/** Every window the detector scores in a split's clips. */
export function allWindowRows(index: WakeDataIndex, store: EmbeddingStore, split: Split): Uint32Array {
  const rows: number[] = [];
  for (const label of ['pos', 'neg'] as const) {
    for (const c of clipsOf(index, split, label)) {
      const span = store.clips[c];
      if (span === undefined) continue;
      for (let f = FIRST_SCORED_FRAME; f <= span.frames; f++) rows.push(windowRow(span, f));
    }
  }
  return Uint32Array.from(rows);
}

/** Each split must have positives and negatives, or its figures mean nothing. */
function checkSplits(index: WakeDataIndex, labelled: Record<Split, LabelledSplit>): void {
  for (const split of SPLITS) {
    const l = labelled[split];
    const missing =
      l.positives.rows.length === 0
        ? 'positive windows'
        : l.negatives.rows.length === 0
          ? 'negative windows'
          : undefined;
    if (missing !== undefined) {
      throw new WakeTrainError(
        'E_WAKE_TRAIN',
        `wake data for "${index.phrase}" (seed ${index.seed}, ${index.size}): the ${split} split has no ${missing}`,
        { details: { split } },
      );
    }
  }
}

/** One head, its divergence reported with the detector's name in front. */
async function trainOne(
  options: TrainWakeOptions,
  store: EmbeddingStore,
  train: LabelledSplit,
  config: TrainConfig,
  onProgress: (p: TrainProgress) => void,
): Promise<TrainResult> {
  try {
    return await trainHead(store, train, config, {
      onProgress,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (err) {
    // The trainer's own coded error (it diverged), with the head's name in front.
    if (err instanceof WakeTrainError && err.code === 'E_WAKE_TRAIN') {
      throw new WakeTrainError('E_WAKE_TRAIN', `${options.name}: ${err.message}`, {
        details: { ...err.details, seed: config.seed },
        cause: err,
      });
    }
    throw err;
  }
}
