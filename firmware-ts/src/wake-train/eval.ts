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
 *   loud part of the clip (see `speechEndMs`), which is right for a clip holding only the phrase.
 *
 * Each file is followed by EVAL_TAIL_MS of silence, as the microphone would go on listening: a phrase
 * that ends a file is still heard out. The silence is not counted in the negatives' hours.
 */
import { promises as fs } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { MODEL_SAMPLE_RATE_HZ, rechunk } from '../audio/chunk.js';
import { streamWavAs16kMono } from '../audio/wav.js';
import { GlassesError, isGlassesError, messageOf } from '../errors.js';
import type { Log } from '../log.js';
import type { FrameScores, WakeDetector } from '../wake/detector.js';
import { FRAME_SAMPLES } from '../wake/features.js';
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
  curve: DetPoint[];
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
}

export async function evalWake(options: EvalWakeOptions): Promise<EvalWakeResult> {
  const { phrase, log } = options;
  const signal = options.signal ?? new AbortController().signal;
  const jobs = [
    ...(await listFiles(options.posDir)).map((file) => ({ root: options.posDir, label: 'pos', file })),
    ...(await listFiles(options.negDir)).map((file) => ({ root: options.negDir, label: 'neg', file })),
  ];
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
  return summarise(options, threshold, pick('pos'), pick('neg'), errors);
}

async function evalFile(
  detector: WakeDetector,
  phrase: string,
  file: string,
  frameScores: () => readonly number[],
  known: { folder: string; phraseEndMs: number | undefined },
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
): EvalWakeResult {
  const found = pos.filter((c) => c.detections > 0).length;
  const falseAccepts = neg.reduce((s, c) => s + c.detections, 0);
  const negSeconds = neg.reduce((s, c) => s + c.seconds, 0);
  const perHour = (n: number, seconds: number): number => (seconds === 0 ? 0 : n / (seconds / 3600));
  const perFolder: FolderFigures[] = [];
  for (const [label, clips] of [
    ['pos', pos],
    ['neg', neg],
  ] as const) {
    const folders = [...new Set(clips.map((c) => c.folder))].sort();
    for (const folder of folders) {
      const inFolder = clips.filter((c) => c.folder === folder);
      const seconds = inFolder.reduce((s, c) => s + c.seconds, 0);
      const hits = inFolder.filter((c) => c.detections > 0).length;
      const fa = inFolder.reduce((s, c) => s + c.detections, 0);
      perFolder.push(
        label === 'pos'
          ? { label, folder, clips: inFolder.length, seconds, found: hits, frr: 1 - hits / inFolder.length }
          : {
              label,
              folder,
              clips: inFolder.length,
              seconds,
              falseAccepts: fa,
              faPerHour: perHour(fa, seconds),
            },
      );
    }
  }
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
    curve: detCurve(
      pos.map((c) => c.scores),
      neg.map((c) => ({ scores: c.scores, seconds: c.seconds })),
      { refractoryMs: options.refractoryMs, thresholds: withThreshold(threshold) },
    ),
    errors,
  };
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

/** 10 ms windows. */
const WINDOW_MS = 10;

/** RMS loudness of consecutive 10 ms windows of audio that arrives in pieces. */
class WindowLoudness {
  private readonly window: number;
  private readonly energies: number[] = [];
  private sum = 0;
  private filled = 0;

  constructor(sampleRateHz: number) {
    this.window = Math.round((sampleRateHz * WINDOW_MS) / 1000);
  }

  push(pcm: Int16Array): void {
    for (let i = 0; i < pcm.length; i++) {
      this.sum += (pcm[i] ?? 0) ** 2;
      if (++this.filled === this.window) {
        this.energies.push(Math.sqrt(this.sum / this.window));
        this.sum = 0;
        this.filled = 0;
      }
    }
  }

  /**
   * The end of the last loud part: the last window louder than both 35 dB under the loudest window
   * and 12 dB over the quietest tenth (the noise floor). For a clip with only the phrase in it, that
   * is where the phrase ends.
   */
  speechEndMs(): number {
    const energies = this.energies;
    if (energies.length === 0) return 0;
    const sorted = [...energies].sort((a, b) => a - b);
    const floor = sorted[Math.floor(sorted.length / 10)] ?? 0;
    const loud = Math.max(sorted[sorted.length - 1] ?? 0, 1) * 10 ** (-35 / 20);
    const threshold = Math.max(loud, floor * 10 ** (12 / 20));
    for (let k = energies.length - 1; k >= 0; k--)
      if ((energies[k] ?? 0) >= threshold) return (k + 1) * WINDOW_MS;
    return energies.length * WINDOW_MS;
  }
}

/** Where the phrase in a clip that holds only the phrase ends (see `WindowLoudness.speechEndMs`). */
export function speechEndMs(pcm: Int16Array, sampleRateHz: number): number {
  const loudness = new WindowLoudness(sampleRateHz);
  loudness.push(pcm);
  return loudness.speechEndMs();
}

/** Every file under `dir`, sorted; hidden files and folders and index.json are not clips. */
async function listFiles(dir: string): Promise<string[]> {
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch (err) {
    throw new GlassesError('E_AUDIO_FILE_MISSING', `folder ${dir}: cannot read it (${messageOf(err)})`, {
      details: { file: dir },
      cause: err,
    });
  }
  if (!stat.isDirectory()) {
    throw new GlassesError('E_AUDIO_FILE_MISSING', `${dir} is not a folder: give a folder of WAV files`, {
      details: { file: dir },
    });
  }
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => join(e.parentPath, e.name))
    .filter((f) => {
      const rel = relative(dir, f).split(sep);
      return !rel.some((part) => part.startsWith('.')) && !(rel.length === 1 && rel[0] === 'index.json');
    })
    .sort();
  if (files.length === 0) {
    throw new GlassesError('E_AUDIO_FILE_MISSING', `folder ${dir} holds no audio files`, {
      details: { file: dir },
    });
  }
  return files;
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
