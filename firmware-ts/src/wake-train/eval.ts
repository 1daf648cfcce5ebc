/**
 * Evaluation of a wake head with the runtime's own streaming detector: every WAV under a folder of
 * positives and a folder of negatives goes through the detector exactly as `glasses run` would hear
 * it, and the figures are counted from what it fires and from its per-frame scores.
 *
 * - found / total and FRR: a positive clip is found when the detector fires in it at least once;
 * - false accepts: every detection in a negative clip; FA per hour over the negatives' total length;
 * - the DET curve: FRR and FA/h at every threshold, from the per-frame scores with the detector's
 *   rising-edge and refractory rule (det.ts), so its point at the run's threshold equals the run;
 * - latency: from the end of the phrase to the first detection. The end comes from the data set's
 *   index.json (`phraseEndSeconds`) when the clip is in one, else it is taken as the end of the last
 *   loud part of the clip (see speech-end.ts), which is right for a clip holding only the phrase.
 *
 * Each file is followed by EVAL_TAIL_MS of silence, as the microphone would go on listening: a phrase
 * that ends a file is still heard out. The silence is not counted in the negatives' hours.
 */
import { dirname, relative, resolve, sep } from 'node:path';
import { MODEL_SAMPLE_RATE_HZ, rechunk } from '../audio/chunk.js';
import { listAudioFolder } from '../audio/files.js';
import { streamWavAs16kMono } from '../audio/wav.js';
import { GlassesError, isGlassesError } from '../errors.js';
import type { Log } from '../log.js';
import type { FrameScores, WakeDetector } from '../wake/detector.js';
import { FRAME_SAMPLES } from '../wake/features.js';
import { readClipManifests } from './clip-manifest.js';
import { WindowLoudness } from './speech-end.js';
import { readWakeDataIndex } from './data/dataset.js';
import { DEFAULT_THRESHOLDS, detCurve, type DetPoint } from './det.js';

export const EVAL_TAIL_MS = 1000;

export interface EvalEngine {
  detector: WakeDetector;
  close(): Promise<void>;
}

export interface EvalWakeOptions {
  phrase: string;
  posDir: string;
  negDir: string;
  refractoryMs: number;
  /**
   * Builds the runtime's engine (main.ts `createWakeEngine`) with `onFrame` wired in. The threshold
   * its detector fires `phrase` at is the run's (reported, and marked on the curve).
   */
  openEngine: (onFrame: (frame: FrameScores) => void) => Promise<EvalEngine>;
  log: Log;
  signal?: AbortSignal;
  /** Engines evaluating files at once (default 1); the figures are the same for any number. */
  concurrency?: number;
  /** Columns of the manifest TSVs beside the clips to group the figures by (`--by voice`). */
  by?: readonly string[];
}

export interface FolderFigures {
  label: 'pos' | 'neg';
  /** Relative to --pos or --neg; `.` for files directly in it. */
  folder: string;
  clips: number;
  seconds: number;
  /** Positives. */
  found?: number;
  frr?: number;
  /** Negatives. */
  falseAccepts?: number;
  faPerHour?: number;
}

/** Figures of the clips whose manifest row has `value` in `column` (`(none)` for clips without one). */
export interface GroupFigures extends Omit<FolderFigures, 'folder'> {
  value: string;
}

export interface ColumnFigures {
  column: string;
  groups: GroupFigures[];
}

/** What a group is called when its clips have no manifest row, or nothing in that column. */
export const NO_VALUE = '(none)';

export interface LatencyFigures {
  /** Detections measured. */
  count: number;
  meanMs: number;
  medianMs: number;
  p90Ms: number;
  maxMs: number;
  /** Where the phrase ends came from: the data set's index, the audio, or both. */
  phraseEnd: 'index' | 'estimated' | 'mixed';
}

export interface FileError {
  file: string;
  code: string;
  message: string;
}

export interface EvalWakeResult {
  phrase: string;
  threshold: number;
  refractoryMs: number;
  found: number;
  total: number;
  frr: number;
  falseAccepts: number;
  negClips: number;
  negSeconds: number;
  faPerHour: number;
  latencyMs: LatencyFigures | null;
  perFolder: FolderFigures[];
  /** One entry per `by` column, in the order asked. */
  byColumn: ColumnFigures[];
  curve: DetPoint[];
  /** Files under the folders that are not audio (by their extension), left out. */
  skipped: number;
  /** Files that could not be read; the figures leave them out. */
  errors: FileError[];
}

interface ClipResult {
  file: string;
  folder: string;
  seconds: number;
  scores: Float32Array;
  detections: number;
  firstDetectionMs?: number;
  /** Where the phrase ends, and whence that is known. */
  phraseEndMs: number;
  phraseEndFrom: 'index' | 'estimated';
  /** The `by` columns of its manifest row. */
  columns: Readonly<Record<string, string>>;
}

export async function evalWake(options: EvalWakeOptions): Promise<EvalWakeResult> {
  const { phrase, log } = options;
  const signal = options.signal ?? new AbortController().signal;
  const pos = await listAudioFolder(options.posDir);
  const neg = await listAudioFolder(options.negDir);
  const jobs = [
    ...pos.files.map((file) => ({ root: options.posDir, label: 'pos', file })),
    ...neg.files.map((file) => ({ root: options.negDir, label: 'neg', file })),
  ];
  const skipped = pos.skipped.length + neg.skipped.length;
  if (skipped > 0)
    log.info({ skipped }, `${skipped} files are not audio (by their extension) and are left out`);
  const by = options.by ?? [];
  // Manifests are read only to group by their columns.
  const manifests = await readClipManifests(by.length === 0 ? [] : [...pos.skipped, ...neg.skipped], log);
  for (const column of by) {
    if (![...manifests.values()].some((row) => column in row)) {
      throw new GlassesError(
        'E_USAGE',
        `glasses eval wake --by ${column}: no manifest under ${options.posDir} or ${options.negDir} has a "${column}" column (a .tsv whose header names "file" and "${column}", files relative to it)`,
      );
    }
  }
  const columnsOf = (file: string): Record<string, string> => {
    const row = manifests.get(resolve(file));
    return Object.fromEntries(
      by.map((c) => [c, row?.[c] === undefined || row[c] === '' ? NO_VALUE : row[c]]),
    );
  };
  const phraseEnds = await phraseEndsFrom(options.posDir);
  const results: (ClipResult | undefined)[] = [];
  const errors: FileError[] = [];
  let next = 0;
  let failed = false;
  let lastLogged = Date.now();
  let threshold = Number.NaN;

  // Each worker has its own engine; a file is evaluated from a reset detector, so the figures do not
  // depend on which worker took it.
  const worker = async (): Promise<void> => {
    let frameScores: number[] = [];
    const engine = await options
      .openEngine((frame) => {
        frameScores.push(frame.scores[phrase] ?? 0);
      })
      .catch((err: unknown) => {
        failed = true;
        throw err;
      });
    threshold = engine.detector.thresholds[phrase] ?? Number.NaN;
    try {
      while (!failed && next < jobs.length) {
        const i = next++;
        const job = jobs[i];
        if (job === undefined) break;
        if (signal.aborted) throw new GlassesError('E_ABORTED', 'glasses eval wake: stopped');
        frameScores = [];
        engine.detector.reset();
        try {
          results[i] = await evalFile(engine.detector, phrase, job.file, () => frameScores, {
            folder: folderOf(job.root, job.file),
            phraseEndMs: phraseEnds.get(resolve(job.file)),
            columns: columnsOf(job.file),
          });
        } catch (err) {
          if (!isGlassesError(err) || err.code === 'E_ABORTED') {
            failed = true;
            throw err;
          }
          errors.push({ file: job.file, code: err.code, message: err.message });
          log.error({ code: err.code, file: job.file }, err.message);
        }
        if (Date.now() - lastLogged > 10_000) {
          lastLogged = Date.now();
          log.info({ done: next, total: jobs.length }, `evaluated ${next} of ${jobs.length} files`);
        }
      }
    } finally {
      await engine.close();
    }
  };
  // Every worker settles (and closes its engine) before a failure is thrown.
  const settled = await Promise.allSettled(
    Array.from({ length: Math.max(1, options.concurrency ?? 1) }, worker),
  );
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  const pick = (label: string): ClipResult[] =>
    jobs.flatMap((job, i) => {
      const r = results[i];
      return job.label === label && r !== undefined ? [r] : [];
    });
  errors.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return summarise(options, threshold, pick('pos'), pick('neg'), errors, skipped);
}

async function evalFile(
  detector: WakeDetector,
  phrase: string,
  file: string,
  frameScores: () => readonly number[],
  known: { folder: string; phraseEndMs: number | undefined; columns: Readonly<Record<string, string>> },
): Promise<ClipResult> {
  // Streamed: an hour of negatives is held a second at a time, its loudness in 10 ms windows.
  const loudness = new WindowLoudness(MODEL_SAMPLE_RATE_HZ);
  let samples = 0;
  async function* heard(): AsyncGenerator<Int16Array> {
    for await (const piece of streamWavAs16kMono(file)) {
      loudness.push(piece);
      samples += piece.length;
      yield piece;
    }
    yield new Int16Array(Math.round((EVAL_TAIL_MS / 1000) * MODEL_SAMPLE_RATE_HZ));
  }
  let detections = 0;
  let firstDetectionMs: number | undefined;
  for await (const chunk of rechunk(heard(), FRAME_SAMPLES)) {
    for (const d of await detector.push(chunk)) {
      if (d.phrase !== phrase) continue;
      detections++;
      firstDetectionMs ??= d.atMs;
    }
  }
  return {
    file,
    folder: known.folder,
    columns: known.columns,
    seconds: samples / MODEL_SAMPLE_RATE_HZ,
    scores: Float32Array.from(frameScores()),
    detections,
    ...(firstDetectionMs === undefined ? {} : { firstDetectionMs }),
    ...(known.phraseEndMs === undefined
      ? { phraseEndMs: loudness.speechEndMs(), phraseEndFrom: 'estimated' as const }
      : { phraseEndMs: known.phraseEndMs, phraseEndFrom: 'index' as const }),
  };
}

function summarise(
  options: EvalWakeOptions,
  threshold: number,
  pos: readonly ClipResult[],
  neg: readonly ClipResult[],
  errors: FileError[],
  skipped: number,
): EvalWakeResult {
  const found = pos.filter((c) => c.detections > 0).length;
  const falseAccepts = neg.reduce((s, c) => s + c.detections, 0);
  const negSeconds = neg.reduce((s, c) => s + c.seconds, 0);
  const perFolder = groupFigures(pos, neg, (c) => c.folder).map(({ key, ...f }) => ({ ...f, folder: key }));
  const byColumn = (options.by ?? []).map((column) => ({
    column,
    groups: groupFigures(pos, neg, (c) => c.columns[column] ?? NO_VALUE).map(({ key, ...f }) => ({
      ...f,
      value: key,
    })),
  }));
  const detected = pos.filter((c) => c.firstDetectionMs !== undefined);
  return {
    phrase: options.phrase,
    threshold,
    refractoryMs: options.refractoryMs,
    found,
    total: pos.length,
    frr: pos.length === 0 ? 0 : 1 - found / pos.length,
    falseAccepts,
    negClips: neg.length,
    negSeconds,
    faPerHour: perHour(falseAccepts, negSeconds),
    latencyMs: latencyFigures(detected),
    perFolder,
    byColumn,
    curve: detCurve(
      pos.map((c) => c.scores),
      neg.map((c) => ({ scores: c.scores, seconds: c.seconds })),
      { refractoryMs: options.refractoryMs, thresholds: withThreshold(threshold) },
    ),
    errors,
    skipped,
  };
}

const perHour = (n: number, seconds: number): number => (seconds === 0 ? 0 : n / (seconds / 3600));

/** Positives' then negatives' figures for each value of `keyOf`, sorted by it. */
function groupFigures(
  pos: readonly ClipResult[],
  neg: readonly ClipResult[],
  keyOf: (c: ClipResult) => string,
): (Omit<FolderFigures, 'folder'> & { key: string })[] {
  const out: (Omit<FolderFigures, 'folder'> & { key: string })[] = [];
  for (const [label, clips] of [
    ['pos', pos],
    ['neg', neg],
  ] as const) {
    const keys = [...new Set(clips.map(keyOf))].sort();
    for (const key of keys) {
      const inGroup = clips.filter((c) => keyOf(c) === key);
      const seconds = inGroup.reduce((s, c) => s + c.seconds, 0);
      const hits = inGroup.filter((c) => c.detections > 0).length;
      const fa = inGroup.reduce((s, c) => s + c.detections, 0);
      out.push(
        label === 'pos'
          ? { label, key, clips: inGroup.length, seconds, found: hits, frr: 1 - hits / inGroup.length }
          : { label, key, clips: inGroup.length, seconds, falseAccepts: fa, faPerHour: perHour(fa, seconds) },
      );
    }
  }
  return out;
}

/** The grid, plus the run's own threshold so the curve has its exact point. */
function withThreshold(threshold: number): number[] {
  return [...new Set([...DEFAULT_THRESHOLDS, threshold])].sort((a, b) => a - b);
}

function latencyFigures(detected: readonly ClipResult[]): LatencyFigures | null {
  if (detected.length === 0) return null;
  const ms = detected.map((c) => (c.firstDetectionMs ?? 0) - c.phraseEndMs).sort((a, b) => a - b);
  const at = (q: number): number => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0;
  const sources = new Set(detected.map((c) => c.phraseEndFrom));
  return {
    count: ms.length,
    meanMs: Math.round(ms.reduce((s, x) => s + x, 0) / ms.length),
    medianMs: at(0.5),
    p90Ms: at(0.9),
    maxMs: ms[ms.length - 1] ?? 0,
    phraseEnd: sources.size > 1 ? 'mixed' : sources.has('index') ? 'index' : 'estimated',
  };
}

function folderOf(root: string, file: string): string {
  const rel = relative(root, dirname(file)).split(sep).join('/');
  return rel === '' ? '.' : rel;
}

/**
 * Phrase ends (ms) of the positives, by absolute path, from the index.json of a generated data set
 * in the folder or one of the three above it (`--pos <data>/test/pos`).
 */
async function phraseEndsFrom(posDir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let dir = resolve(posDir);
  for (let up = 0; up <= 3; up++) {
    const index = await readWakeDataIndex(dir).catch(() => undefined);
    if (index !== undefined) {
      for (const c of index.clips) {
        if (c.phraseEndSeconds !== undefined) out.set(resolve(dir, c.file), c.phraseEndSeconds * 1000);
      }
      return out;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return out;
}
