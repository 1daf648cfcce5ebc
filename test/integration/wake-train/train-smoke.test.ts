/**
 * `glasses train-wake --smoke` end to end, through the real command: data, features, training,
 * export and verification in under two minutes. Then the exported head is run the way the runtime
 * runs it (its loader, real WakeFeatures, WakeDetector on the test clips' audio) and must give the
 * figures the report gives for the test split, and fire on held-out positives.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitChunks } from '../../../firmware-ts/src/audio/chunk.js';
import { readWavAs16kMono } from '../../../firmware-ts/src/audio/wav.js';
import { trainWakeCommand } from '../../../firmware-ts/src/commands/train-wake.js';
import { loadConfig } from '../../../firmware-ts/src/config.js';
import { createOnnxLoader } from '../../../firmware-ts/src/inference/onnx.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import { openModels, type ModelSet } from '../../../firmware-ts/src/main.js';
import type { ModelEntry } from '../../../firmware-ts/src/models/manifest.js';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';
import { WakeDetector, type Detection } from '../../../firmware-ts/src/wake/detector.js';
import { WakeFeatures } from '../../../firmware-ts/src/wake/features.js';
import { readWakeDataIndex } from '../../../firmware-ts/src/wake-train/data/dataset.js';
import type { TrainReport } from '../../../firmware-ts/src/wake-train/train/report.js';

const SMOKE_BUDGET_SECONDS = 120;

let out: string;
let models: ModelSet | undefined;
let seconds: number;
let code: number;
let printed: { threshold: number; manifestEntry: ModelEntry; files: { report: string } };
let report: TrainReport;

beforeAll(
  async () => {
    out = await fs.mkdtemp(join(tmpdir(), 'train-smoke-'));
    const lines: string[] = [];
    const started = performance.now();
    code = await trainWakeCommand.run({
      argv: [
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
      out: (l) => lines.push(l),
    });
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
    for (const f of ['hey_quark.onnx', 'hey_quark.report.json', 'hey_quark.det.png']) {
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
    expect(report.training.epochs.length).toBeGreaterThan(0);
    expect(report.data.splits.test.positiveClips).toBeGreaterThan(0);
  });

  it('checked the ONNX file against TF.js on every validation window', () => {
    const v = report.verification;
    const val = report.data.splits.val;
    expect(v.tolerance).toBe(1e-5);
    expect(v.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    // Every window the detector scores in the validation clips: all frames but the 5 warm-up ones.
    expect(v.windows).toBeGreaterThanOrEqual(val.positiveWindows + val.negativeWindows);
  });

  it('loads in the runtime and gives, clip by clip, the test figures of the report', async () => {
    if (models === undefined) throw new Error('models not open');
    const head = await createOnnxLoader({ modelsDir: out })(printed.manifestEntry);
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
    const detector = new WakeDetector({
      features,
      heads: [
        { phrase: 'chosen', model: head, threshold: points.chosen.threshold },
        { phrase: 'firing', model: head, threshold: points.firing.threshold },
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
  });
});
