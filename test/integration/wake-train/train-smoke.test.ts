/**
 * `glasses train-wake --smoke` end to end, through the real command: data, features, training,
 * export and verification in under two minutes. Then the exported head (and its verifier, when the
 * pair ships) is run the way the runtime runs it (its loader, real WakeFeatures, WakeDetector on the
 * test clips' audio) and must give the figures the report gives for the test split, and fire on
 * held-out positives.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitChunks } from '../../../firmware-ts/src/audio/chunk.js';
import { readWavAs16kMono } from '../../../firmware-ts/src/audio/wav.js';
import { loadConfig } from '../../../firmware-ts/src/config.js';
import { createOnnxLoader } from '../../../firmware-ts/src/inference/onnx.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import { openModels, type ModelSet } from '../../../firmware-ts/src/main.js';
import type { ModelEntry } from '../../../firmware-ts/src/models/manifest.js';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';
import { runChild } from '../../../firmware-ts/src/util/child.js';
import { WakeDetector, type Detection, type WakeHead } from '../../../firmware-ts/src/wake/detector.js';
import { WakeFeatures } from '../../../firmware-ts/src/wake/features.js';
import { readWakeDataIndex } from '../../../firmware-ts/src/wake-train/data/dataset.js';
import type { TrainReport } from '../../../firmware-ts/src/wake-train/train/report.js';

const SMOKE_BUDGET_SECONDS = 120;
const CLI = join(PACKAGE_ROOT, 'dist', 'firmware-ts', 'src', 'cli.js');

let out: string;
let models: ModelSet | undefined;
let seconds: number;
let code: number;
let printed: {
  threshold: number;
  manifestEntry: ModelEntry;
  verifierEntry?: ModelEntry;
  files: { report: string };
};
let report: TrainReport;

beforeAll(
  async () => {
    out = await fs.mkdtemp(join(tmpdir(), 'train-smoke-'));
    const lines: string[] = [];
    const started = performance.now();
    // The compiled command, as an engineer runs it: its features are computed by worker threads,
    // which only the compiled code can start (feature-cache.ts).
    const run = await runChild(
      process.execPath,
      [
        CLI,
        'train-wake',
        '--phrase',
        'hey quark',
        '--smoke',
        '--seed',
        '1',
        '--out',
        out,
        '--json',
        '--log-level',
        'silent',
      ],
      { stderrTail: 4000, signal: new AbortController().signal },
    );
    if (run.kind !== 'exited') throw new Error(`train-wake did not run: ${run.kind}`);
    code = run.code ?? -1;
    if (code !== 0) throw new Error(`train-wake exited ${code}: ${run.stderr}`);
    lines.push(run.stdout.toString('utf8'));
    seconds = (performance.now() - started) / 1000;
    printed = JSON.parse(lines.join('\n')) as typeof printed;
    report = JSON.parse(await fs.readFile(join(PACKAGE_ROOT, printed.files.report), 'utf8')) as TrainReport;
    models = await openModels(loadConfig({ env: {} }));
  },
  2 * SMOKE_BUDGET_SECONDS * 1000,
);

afterAll(async () => {
  await models?.close();
  await fs.rm(out, { recursive: true, force: true });
});

/** Runs the runtime's detector (real features, the exported head) over one file. */
async function detect(detector: WakeDetector, file: string): Promise<Detection[]> {
  detector.reset();
  const { pcm } = await readWavAs16kMono(file);
  const found: Detection[] = [];
  for (const c of splitChunks(pcm, 1280)) found.push(...(await detector.push(c)));
  return found;
}

describe('glasses train-wake --smoke', () => {
  it('writes the model, report and DET picture', async () => {
    expect(code).toBe(0);
    // Its time is reported, not asserted (machines are shared); the hook's timeout catches a hang.
    console.info(`train-wake --smoke took ${seconds.toFixed(1)} s (budget ${SMOKE_BUDGET_SECONDS} s)`);
    const files = ['hey_quark.onnx', 'hey_quark.report.json', 'hey_quark.det.png'];
    if (printed.verifierEntry !== undefined) files.push('hey_quark_verifier.onnx');
    for (const f of files) {
      expect((await fs.stat(join(out, f))).size, f).toBeGreaterThan(0);
    }
    expect(printed.manifestEntry).toMatchObject({
      name: 'hey_quark',
      kind: 'wake-head',
      phrase: 'hey quark',
      file: 'hey_quark.onnx',
      licence: 'UNLICENSED',
      source: { package: 'glasses-runtime' },
    });
    expect(report.training.heads[0]?.epochs.length).toBeGreaterThan(0);
    expect(report.data.splits.test.positiveClips).toBeGreaterThan(0);
  });

  it('checked the ONNX files against TF.js on every validation window', () => {
    const val = report.data.splits.val;
    const checks = [report.verification, report.stages?.verifierVerification].filter((v) => v !== undefined);
    expect(checks.length).toBe(printed.verifierEntry === undefined ? 1 : 2);
    for (const v of checks) {
      expect(v.tolerance).toBe(1e-5);
      expect(v.maxAbsDiff).toBeLessThanOrEqual(1e-5);
      // Every window the detector scores in the validation clips: all frames but the 5 warm-up ones.
      expect(v.windows).toBeGreaterThanOrEqual(val.positiveWindows + val.negativeWindows);
    }
  });

  it('trains a verifier on the false accepts of the head and reports both stages and each synthesiser', () => {
    const stages = report.stages;
    if (stages === undefined) throw new Error('no stages in the report');
    expect(stages.verifierTraining.hardNegatives).toBeGreaterThan(0);
    expect(stages.headAlone.det.val.length).toBeGreaterThan(0);
    expect(stages.pair.det.val.length).toBeGreaterThan(0);
    expect(report.head).toEqual(stages.shipped === 'head + verifier' ? stages.pair : stages.headAlone);
    if (stages.shipped === 'head + verifier') {
      expect(printed.verifierEntry).toMatchObject({
        name: 'hey_quark_verifier',
        kind: 'wake-verifier',
        verifies: 'hey_quark',
        threshold: (report.head.ordinaryAudio ?? report.head).threshold,
      });
      expect(printed.manifestEntry.threshold).toBe(stages.stage1Threshold);
    }
    // Every synthesiser gives test voices, and each is reported.
    expect(Object.keys(report.head.testBy?.synth ?? {})).toEqual(
      expect.arrayContaining(['espeak-en', 'espeak-other', 'flite', 'festival']),
    );
    expect(Object.keys(report.head.testBy?.condition ?? {}).length).toBeGreaterThan(1);
  });

  it('loads in the runtime and gives, clip by clip, the test figures of the report', async () => {
    if (models === undefined) throw new Error('models not open');
    const load = createOnnxLoader({ modelsDir: out });
    const head = await load(printed.manifestEntry);
    const verifier = printed.verifierEntry === undefined ? undefined : await load(printed.verifierEntry);
    const features = new WakeFeatures({
      melspectrogram: await models.get('melspectrogram', 'wake-features'),
      embedding: await models.get('embedding', 'wake-features'),
    });
    await features.warmUp();
    // The smoke head is weak, and its val set too small for its chosen threshold to find much: the
    // runtime is also checked at the highest threshold at which the report finds a test positive.
    const firing = report.head.det.test.filter((p) => p.found > 0).pop();
    if (firing === undefined) throw new Error('the smoke head finds no test positive at any threshold');
    const points = { chosen: report.head.test, firing };
    // With a verifier, the head runs at stage 1's threshold and the figures are the verifier's.
    const stage = (threshold: number): Pick<WakeHead, 'model' | 'threshold' | 'verifier'> =>
      verifier === undefined
        ? { model: head, threshold }
        : {
            model: head,
            threshold: printed.manifestEntry.threshold!,
            verifier: { model: verifier, threshold },
          };
    const detector = new WakeDetector({
      features,
      heads: [
        { phrase: 'chosen', ...stage(points.chosen.threshold) },
        { phrase: 'firing', ...stage(points.firing.threshold) },
      ],
      refractoryMs: report.refractoryMs,
      log: silentLogger(),
    });
    const dataDir = join(PACKAGE_ROOT, report.data.dir);
    const index = await readWakeDataIndex(dataDir);
    if (index === undefined) throw new Error(`no data index in ${dataDir}`);
    const counts = { chosen: { found: 0, falseAccepts: 0 }, firing: { found: 0, falseAccepts: 0 } };
    for (const clip of index.clips.filter((c) => c.split === 'test')) {
      const d = await detect(detector, join(dataDir, clip.file));
      for (const which of ['chosen', 'firing'] as const) {
        const mine = d.filter((x) => x.phrase === which);
        if (clip.label === 'neg') counts[which].falseAccepts += mine.length;
        else if (mine.length > 0) {
          counts[which].found++;
          // It fires around the end of the phrase, not before it is half said.
          expect(mine[0]!.atMs, clip.file).toBeGreaterThan(clip.phraseEndSeconds! * 1000 - 500);
        }
      }
    }
    expect(counts.firing.found).toBeGreaterThan(0);
    for (const which of ['chosen', 'firing'] as const) {
      expect(counts[which], which).toEqual({
        found: points[which].found,
        falseAccepts: points[which].falseAccepts,
      });
    }
    await head.release();
    await verifier?.release();
  });
});
