/**
 * A head's figures: scored on the val and test splits, its threshold chosen on val (threshold.ts),
 * and its test FRR and FA/h at that threshold. Our head and openWakeWord's pretrained one go through
 * this same function, on the same windows.
 */
import type { WakeDataClip, WakeDataIndex } from '../data/dataset.js';
import { countDetections, detCurve } from '../det.js';
import type { EmbeddingStore } from './embeddings.js';
import { falseAcceptsByKind, scoreSplit, splitDet, type SplitScores, type WindowScorer } from './evaluate.js';
import type { ProgressSink } from './progress.js';
import { figuresOf, round, roundedPoints, type GroupFigures, type HeadEvaluation } from './report.js';
import { chooseOperatingPoint, pointAt, TRAIN_THRESHOLDS } from './threshold.js';

export interface AssessOptions {
  name: string;
  refractoryMs: number;
  progress: ProgressSink;
  /** For a pretrained head: the threshold the runtime is configured with, reported as well. */
  configuredThreshold?: number;
  signal?: AbortSignal;
}

export async function evaluateHead(
  index: WakeDataIndex,
  store: EmbeddingStore,
  scorer: WindowScorer,
  options: AssessOptions,
): Promise<HeadEvaluation> {
  const { progress, signal } = options;
  const detOptions = { thresholds: TRAIN_THRESHOLDS, refractoryMs: options.refractoryMs };
  progress.stage(`evaluation of ${options.name}`);
  const scored = {} as Record<'val' | 'test', SplitScores>;
  for (const split of ['val', 'test'] as const) {
    scored[split] = await scoreSplit(index, store, split, scorer, {
      onProgress: (done, total) => {
        progress.update(done, total, `${split} windows`);
      },
      ...(signal === undefined ? {} : { signal }),
    });
  }
  const valDet = splitDet(scored.val, detOptions);
  const testDet = splitDet(scored.test, detOptions);
  const chosen = chooseOperatingPoint(valDet);
  const threshold = chosen.point.threshold;
  const evaluation: HeadEvaluation = {
    name: options.name,
    threshold,
    budgetMet: chosen.budgetMet,
    val: figuresOf(chosen.point, scored.val.positives.length, scored.val.negatives),
    test: figuresOf(pointAt(testDet, threshold), scored.test.positives.length, scored.test.negatives),
    testFalseAcceptsByKind: falseAcceptsByKind(index, scored.test, threshold, options.refractoryMs),
    testBy: {
      synth: figuresByGroup(index, scored.test, threshold, options.refractoryMs, (c) => c.synth ?? 'none'),
      condition: figuresByGroup(index, scored.test, threshold, options.refractoryMs, conditionOfClip),
    },
    det: { val: roundedPoints(valDet), test: roundedPoints(testDet) },
  };
  // The same rule with false accepts counted on ordinary audio only: near-misses are a dense,
  // adversarial set (a few minutes of "hey clark" and "say quark"), reported as a share that fires.
  const ordinary = { val: withoutNearMisses(index, scored.val), test: withoutNearMisses(index, scored.test) };
  const ordinaryVal = splitDet(ordinary.val, detOptions);
  const ordinaryTest = splitDet(ordinary.test, detOptions);
  const ordinaryChosen = chooseOperatingPoint(ordinaryVal);
  const nearMisses = falseAcceptsByKind(
    index,
    scored.test,
    ordinaryChosen.point.threshold,
    options.refractoryMs,
  )['near-miss'];
  evaluation.ordinaryAudio = {
    threshold: ordinaryChosen.point.threshold,
    budgetMet: ordinaryChosen.budgetMet,
    val: figuresOf(ordinaryChosen.point, ordinary.val.positives.length, ordinary.val.negatives),
    test: figuresOf(
      pointAt(ordinaryTest, ordinaryChosen.point.threshold),
      ordinary.test.positives.length,
      ordinary.test.negatives,
    ),
    testNearMisses: { clips: nearMisses?.clips ?? 0, fired: nearMisses?.clipsFired ?? 0 },
    testBy: {
      synth: figuresByGroup(
        index,
        scored.test,
        ordinaryChosen.point.threshold,
        options.refractoryMs,
        (c) => c.synth ?? 'none',
      ),
      condition: figuresByGroup(
        index,
        scored.test,
        ordinaryChosen.point.threshold,
        options.refractoryMs,
        conditionOfClip,
      ),
    },
    det: { test: roundedPoints(ordinaryTest) },
  };
  if (options.configuredThreshold !== undefined) {
    const [at] = detCurve(scored.test.positives, scored.test.negatives, {
      ...detOptions,
      thresholds: [options.configuredThreshold],
    });
    if (at !== undefined) {
      evaluation.testAtConfigured = figuresOf(at, scored.test.positives.length, scored.test.negatives);
    }
  }
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  progress.done(
    `threshold ${threshold}: val FRR ${pct(evaluation.val.frr)} at ${evaluation.val.faPerHour} FA/h; test FRR ${pct(evaluation.test.frr)} at ${evaluation.test.faPerHour} FA/h`,
  );
  return evaluation;
}

/** The condition folder of a speech clip (`<split>/<label>/<kind>/<condition>/<name>.wav`). */
function conditionOfClip(clip: WakeDataClip): string {
  const parts = clip.file.split('/');
  return parts.length === 5 ? (parts[3] ?? 'none') : 'none';
}

/**
 * Test figures at one threshold per group of clips (synthesiser, condition): FRR over the group's
 * positives, false accepts per hour over its negatives.
 */
function figuresByGroup(
  index: WakeDataIndex,
  scores: SplitScores,
  threshold: number,
  refractoryMs: number,
  groupOf: (clip: WakeDataClip) => string,
): Record<string, GroupFigures> {
  const out: Record<string, GroupFigures> = {};
  const get = (g: string): GroupFigures =>
    (out[g] ??= { positives: 0, found: 0, frr: 0, negativeSeconds: 0, falseAccepts: 0, faPerHour: 0 });
  scores.positives.forEach((s, i) => {
    const clip = index.clips[scores.positiveClips[i] ?? -1];
    if (clip === undefined) return;
    const g = get(groupOf(clip));
    g.positives++;
    if (countDetections(s, threshold, undefined, refractoryMs) > 0) g.found++;
  });
  scores.negatives.forEach((n, i) => {
    const clip = index.clips[scores.negativeClips[i] ?? -1];
    if (clip === undefined) return;
    const g = get(groupOf(clip));
    g.negativeSeconds += n.seconds;
    g.falseAccepts += countDetections(n.scores, threshold, undefined, refractoryMs);
  });
  for (const g of Object.values(out)) {
    g.frr = g.positives > 0 ? round(1 - g.found / g.positives, 4) : 0;
    g.faPerHour = g.negativeSeconds > 0 ? round(g.falseAccepts / (g.negativeSeconds / 3600), 3) : 0;
    g.negativeSeconds = round(g.negativeSeconds, 1);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The split's scores without its near-miss negatives. */
function withoutNearMisses(index: WakeDataIndex, scores: SplitScores): SplitScores {
  const keep = scores.negativeClips
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => index.clips[c]?.kind !== 'near-miss');
  return {
    ...scores,
    negatives: keep.map(({ i }) => scores.negatives[i]).filter((n) => n !== undefined),
    negativeClips: keep.map(({ c }) => c),
  };
}
