/**
 * The arm64 bundle runs, and sees what x64 sees: the run's arm64 bundle (its own node_modules with the
 * arm64 onnxruntime and sharp; test/helpers/shared-build.ts builds and unpacks it once for every test
 * file that needs it) runs ITS `selftest --json` under qemu with Node
 * for arm64 (scripts/arm64.ts). Its wake detection, objects and text must equal those of the x64 run
 * from this checkout's dist/. Emulation is slow (minutes), so only the self-test runs there.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  emulationProblems,
  prepareArm64Node,
  runEmulated,
  type EmulatedRun,
} from '../../../scripts/arm64.js';
import { SAMPLES_DIR } from '../../../firmware-ts/src/paths.js';
import { makeAlsaFileDevices } from '../../helpers/alsa.js';
import { sharedBundle } from '../../helpers/shared-build.js';
import { glasses, parseSelftest, type CliRun, type SelftestJson } from './cli.js';

/** Scores may differ in the last bits between x64 and arm64 kernels (FMA, summation order). */
const SCORE_TOLERANCE = 1e-3;
/** Boxes are whole pixels; a score-sized difference can round a side the other way. */
const BOX_TOLERANCE_PX = 1;
/** Measured here: ~4 min for the emulated self-test on a busy 2-core machine, ~1 min for the build. */
const EMULATED_DEADLINE_MS = 12 * 60_000;

/**
 * The same devices on both sides, so the two tables are alike: ALSA devices backed by files and a
 * photo for the camera (a missing microphone or speaker fails the self-test).
 */
let DEVICES: NodeJS.ProcessEnv = {};
/** The file-backed devices' folder (the bundle itself is the run's shared one). */
const work = mkdtempSync(join(tmpdir(), 'arm64-'));

const problems = await emulationProblems();
const skipReason = `arm64 emulation is not available here: ${problems.join('; ')}`;

let arm: EmulatedRun;
let armReport: SelftestJson | undefined;
let x64: CliRun;
let x64Report: SelftestJson | undefined;
let buildSeconds = 0;

beforeAll(
  async () => {
    if (problems.length > 0) return;
    const captureRaw = join(work, 'capture.raw');
    writeFileSync(captureRaw, Buffer.alloc(32_000, 1));
    const alsa = await makeAlsaFileDevices({
      captureRaw,
      playbackRaw: join(work, 'playback.raw'),
      dir: join(work, 'alsa'),
    });
    DEVICES = {
      ALSA_CONFIG_PATH: alsa.env.ALSA_CONFIG_PATH,
      GLASSES_AUDIO__MIC_DEVICE: alsa.captureDevice,
      GLASSES_AUDIO__SPEAKER_DEVICE: alsa.playbackDevice,
      GLASSES_CAMERA__DEVICE: join(SAMPLES_DIR, 'camera', '1-fruits.jpg'),
      GLASSES_LOG__FORMAT: 'json',
    };
    await prepareArm64Node();
    // The run's arm64 bundle, which the bundle test checks file by file; selftest only reads it.
    const { build, dir: top } = await sharedBundle('arm64');
    buildSeconds = build.seconds;

    x64 = await glasses(['selftest', '--json', '--log-level', 'warn'], DEVICES);
    x64Report = parseSelftest(x64.stdout);
    arm = await runEmulated(['dist/firmware-ts/src/cli.js', 'selftest', '--json', '--log-level', 'warn'], {
      cwd: top,
      env: { ...process.env, ...DEVICES },
      timeoutMs: EMULATED_DEADLINE_MS,
    });
    armReport = parseSelftest(arm.stdout);
    const perCheck = (r: SelftestJson | undefined): string =>
      (r?.checks ?? []).map((c) => `${c.check} ${c.ms}`).join(', ');
    console.info(
      `arm64 bundle built in ${buildSeconds.toFixed(0)} s; selftest x64 ${(x64.ms / 1000).toFixed(1)} s ` +
        `(${perCheck(x64Report)}); emulated arm64 ${(arm.ms / 1000).toFixed(1)} s (${perCheck(armReport)})`,
    );
  },
  EMULATED_DEADLINE_MS + 5 * 60_000,
);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function near(a: number | undefined, b: number | undefined, tolerance: number): boolean {
  return a !== undefined && b !== undefined && Math.abs(a - b) <= tolerance;
}

describe('the arm64 bundle under qemu', () => {
  it('runs its own selftest to the end: every check passes, as on x64', (ctx) => {
    if (problems.length > 0) ctx.skip(skipReason);
    expect(arm.code, `exit ${String(arm.code)} ${arm.signal ?? ''}\n${arm.stderr.slice(-3000)}`).toBe(0);
    expect(armReport?.arch).toBe('arm64');
    expect(x64.code, x64.stderr).toBe(0);
    expect(x64Report?.arch).toBe('x64');
    expect(armReport?.checks.map((c) => [c.check, c.result])).toEqual(
      x64Report?.checks.map((c) => [c.check, c.result]),
    );
    expect(armReport?.checks.filter((c) => c.result === 'fail')).toEqual([]);
    expect(armReport?.version).toBe(x64Report?.version);
  });

  it('hears the wake phrase at the same moment with the same score', (ctx) => {
    if (problems.length > 0) ctx.skip(skipReason);
    const a = armReport?.wake;
    const x = x64Report?.wake;
    expect(a?.detections.map((d) => [d.phrase, d.atMs])).toEqual(
      x?.detections.map((d) => [d.phrase, d.atMs]),
    );
    expect(a?.detections.length).toBeGreaterThan(0);
    a?.detections.forEach((d, i) => {
      expect(near(d.score, x?.detections[i]?.score, SCORE_TOLERANCE), `${d.score} vs x64`).toBe(true);
    });
    for (const [phrase, peak] of Object.entries(x?.peaks ?? {})) {
      expect(near(a?.peaks[phrase], peak, SCORE_TOLERANCE), phrase).toBe(true);
    }
  });

  it('finds the same objects in the same places with the same scores', (ctx) => {
    if (problems.length > 0) ctx.skip(skipReason);
    const a = armReport?.objects;
    const x = x64Report?.objects;
    expect(a?.detector).toBe(x?.detector);
    expect(a?.objects.map((o) => o.label)).toEqual(x?.objects.map((o) => o.label));
    expect(a?.objects.length).toBeGreaterThan(0);
    a?.objects.forEach((o, i) => {
      const other = x?.objects[i];
      expect(
        near(o.score, other?.score, SCORE_TOLERANCE),
        `${o.label} ${o.score} vs ${String(other?.score)}`,
      ).toBe(true);
      o.box.forEach((v, k) => {
        expect(near(v, other?.box[k], BOX_TOLERANCE_PX), `${o.label} box ${o.box.join(',')}`).toBe(true);
      });
    });
  });

  it('reads the same text', (ctx) => {
    if (problems.length > 0) ctx.skip(skipReason);
    const a = armReport?.text;
    const x = x64Report?.text;
    expect(a?.lines.map((l) => l.text)).toEqual(x?.lines.map((l) => l.text));
    expect(a?.lines.length).toBeGreaterThan(0);
    a?.lines.forEach((l, i) => {
      expect(near(l.score, x?.lines[i]?.score, SCORE_TOLERANCE), l.text).toBe(true);
      l.box.forEach((v, k) => {
        expect(near(v, x?.lines[i]?.box[k], BOX_TOLERANCE_PX), `${l.text} box`).toBe(true);
      });
    });
  });
});
