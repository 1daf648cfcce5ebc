/** The training report (`models/<name>.report.json`): what was trained on, how, and how well it does. */
import type { ModelEntry } from '../../models/manifest.js';
import type { DetPoint } from '../det.js';
import type { NegativeScores } from '../det.js';
import type { WakeDataIndex } from '../data/dataset.js';
import type { LabelledSplit, Split } from './labels.js';
import type { EpochRecord, RoundRecord, TrainConfig } from './trainer.js';
import type { Verification } from './export.js';
import type { KindFigures } from './evaluate.js';

export interface SplitCounts {
  voices: number;
  positiveClips: number;
  negativeClips: number;
  nearMissClips: number;
  positiveSeconds: number;
  negativeSeconds: number;
  /** Windows labelled for training (positives: around the phrase end; negatives: all). */
  positiveWindows: number;
  negativeWindows: number;
  positiveClipsWithoutWindows: number;
}

/** A head's figures at one threshold on one split. */
export interface Figures {
  threshold: number;
  frr: number;
  faPerHour: number;
  found: number;
  positives: number;
  falseAccepts: number;
  negativeSeconds: number;
}

/** One group's test figures (a synthesiser's voices, or a condition) at one threshold. */
export interface GroupFigures {
  positives: number;
  found: number;
  frr: number;
  negativeSeconds: number;
  falseAccepts: number;
  faPerHour: number;
}

export interface HeadEvaluation {
  name: string;
  /** Chosen on `val` by THRESHOLD_RULE. */
  threshold: number;
  budgetMet: boolean;
  val: Figures;
  test: Figures;
  /** Test false accepts at the chosen threshold by kind of negative (near-miss, speech, noise...). */
  testFalseAcceptsByKind: Record<string, KindFigures>;
  /** Test figures at the chosen threshold per synthesiser and per condition (clean, noise, reverb). */
  testBy?: { synth: Record<string, GroupFigures>; condition: Record<string, GroupFigures> };
  /**
   * The same rule with FA/h counted on ordinary negatives only (speech, noise, silence, tones,
   * music); the test near-miss clips that fire at that threshold are reported apart.
   */
  ordinaryAudio?: {
    threshold: number;
    budgetMet: boolean;
    val: Figures;
    test: Figures;
    testNearMisses: { clips: number; fired: number };
    /** As `testBy`, at this rule's threshold (the one that ships). */
    testBy?: { synth: Record<string, GroupFigures>; condition: Record<string, GroupFigures> };
    det: { test: DetPoint[] };
  };
  /** For a pretrained head: the figures at the threshold the runtime is configured with. */
  testAtConfigured?: Figures;
  det: { val: DetPoint[]; test: DetPoint[] };
}

export interface TrainReport {
  name: string;
  phrase: string;
  seed: number;
  size: 'smoke' | 'full';
  createdWith: { package: string; version: string; node: string; tfjsBackend: string };
  data: {
    dir: string;
    generatorVersion: number;
    tools: string;
    nearMisses: string[];
    splits: Record<Split, SplitCounts>;
  };
  features: { cacheKey: string; cached: boolean };
  labels: { positiveWindows: string; negativeWindows: string };
  /** Each head of the detector (ensemble.ts: their logits averaged), from its own seed. */
  training: {
    config: TrainConfig;
    heads: { seed: number; rounds: RoundRecord[]; epochs: EpochRecord[] }[];
  };
  thresholdRule: string;
  refractoryMs: number;
  head: HeadEvaluation;
  /**
   * The two stages: the head alone (at its own threshold), the head with its verifier (the head at
   * stage1Threshold), which of the two ships (`head` above is that one), and how the verifier was
   * trained and checked.
   */
  stages?: {
    rule: string;
    shipped: 'head + verifier' | 'head alone';
    stage1Threshold: number;
    headAlone: HeadEvaluation;
    pair: HeadEvaluation;
    verifierTraining: {
      hardNegatives: number;
      mineFrom: number;
      rounds: RoundRecord[];
      epochs: EpochRecord[];
    };
    verifier?: ModelEntry;
    verifierVerification?: Verification;
  };
  /** openWakeWord's pretrained head for the same words, measured by the same function on the same audio. */
  pretrained?: HeadEvaluation;
  verification: Verification;
  model: ModelEntry;
  files: { onnx: string; report: string; det: string };
  /** Wall-clock seconds per stage, and the whole run. */
  seconds: Record<'data' | 'features' | 'training' | 'evaluation' | 'export' | 'total', number>;
}

export function splitCounts(index: WakeDataIndex, split: Split, labelled: LabelledSplit): SplitCounts {
  const clips = index.clips.filter((c) => c.split === split);
  const sum = (label: 'pos' | 'neg'): number =>
    clips.filter((c) => c.label === label).reduce((s, c) => s + c.seconds, 0);
  return {
    voices: new Set(clips.filter((c) => c.voice !== 'none').map((c) => `${c.voice}+${c.variant}`)).size,
    positiveClips: clips.filter((c) => c.label === 'pos').length,
    negativeClips: clips.filter((c) => c.label === 'neg').length,
    nearMissClips: clips.filter((c) => c.kind === 'near-miss').length,
    positiveSeconds: round(sum('pos'), 1),
    negativeSeconds: round(sum('neg'), 1),
    positiveWindows: labelled.positives.rows.length,
    negativeWindows: labelled.negatives.rows.length,
    positiveClipsWithoutWindows: labelled.positiveClipsWithoutWindows,
  };
}

export function figuresOf(point: DetPoint, positives: number, negatives: readonly NegativeScores[]): Figures {
  return {
    threshold: point.threshold,
    frr: round(point.frr, 4),
    faPerHour: round(point.faPerHour, 3),
    found: point.found,
    positives,
    falseAccepts: point.falseAccepts,
    negativeSeconds: round(
      negatives.reduce((s, n) => s + n.seconds, 0),
      1,
    ),
  };
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** DET points with their figures rounded, for a report a person can read. */
export function roundedPoints(points: readonly DetPoint[]): DetPoint[] {
  return points.map((p) => ({ ...p, frr: round(p.frr, 4), faPerHour: round(p.faPerHour, 3) }));
}

/** Most DET points a curve keeps in the report (the picture is drawn from every point). */
export const REPORT_DET_POINTS = 32;

/**
 * A DET curve thinned for the report: the points where FRR or FA/h changes (and both ends), then
 * evenly spaced ones down to `max`; the thresholds in `keep` (the chosen ones) always stay.
 */
export function thinPoints(
  points: readonly DetPoint[],
  keep: readonly number[] = [],
  max: number = REPORT_DET_POINTS,
): DetPoint[] {
  const kept = (p: DetPoint): boolean => keep.includes(p.threshold);
  const changed = points.filter((p, i) => {
    const prev = points[i - 1];
    return (
      prev === undefined ||
      i === points.length - 1 ||
      p.frr !== prev.frr ||
      p.faPerHour !== prev.faPerHour ||
      kept(p)
    );
  });
  if (changed.length <= max) return changed;
  const step = (changed.length - 1) / (max - 1);
  const even = new Set(Array.from({ length: max }, (_, k) => Math.round(k * step)));
  return changed.filter((p, i) => even.has(i) || kept(p));
}

/** A head's figures with its DET curves thinned (thinPoints), as the report holds them. */
export function forReport(h: HeadEvaluation): HeadEvaluation {
  const keep = [h.threshold, h.ordinaryAudio?.threshold, h.testAtConfigured?.threshold].filter(
    (t): t is number => t !== undefined,
  );
  return {
    ...h,
    det: { val: thinPoints(h.det.val, keep), test: thinPoints(h.det.test, keep) },
    ...(h.ordinaryAudio === undefined
      ? {}
      : { ordinaryAudio: { ...h.ordinaryAudio, det: { test: thinPoints(h.ordinaryAudio.det.test, keep) } } }),
  };
}

export interface Rate {
  frr: number;
  faPerHour: number;
}

export interface HeadSummary {
  name: string;
  threshold: number;
  val: Rate;
  test: Rate;
  /** FA/h on ordinary negatives only, and how many test near-miss clips fire, at that rule's threshold. */
  ordinaryAudio?: { threshold: number; test: Rate; testNearMisses: { clips: number; fired: number } };
}

/** What the command prints: each head's figures at its chosen threshold. */
export function summaryOf(report: TrainReport): HeadSummary & { pretrained?: HeadSummary } {
  const head = (e: HeadEvaluation): HeadSummary => ({
    name: e.name,
    threshold: e.threshold,
    val: { frr: e.val.frr, faPerHour: e.val.faPerHour },
    test: { frr: e.test.frr, faPerHour: e.test.faPerHour },
    ...(e.ordinaryAudio === undefined
      ? {}
      : {
          ordinaryAudio: {
            threshold: e.ordinaryAudio.threshold,
            test: { frr: e.ordinaryAudio.test.frr, faPerHour: e.ordinaryAudio.test.faPerHour },
            testNearMisses: e.ordinaryAudio.testNearMisses,
          },
        }),
  });
  return {
    ...head(report.head),
    ...(report.pretrained === undefined ? {} : { pretrained: head(report.pretrained) }),
  };
}
