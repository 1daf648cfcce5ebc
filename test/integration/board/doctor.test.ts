/**
 * `glasses doctor` through the built CLI on this machine: the real arecord/aplay (through ALSA devices
 * backed by files, and names ALSA does not know), /proc, statfs, PATH and the model files.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathWithout } from '../../helpers/tools-path.js';
import type { DoctorRow } from '../../../firmware-ts/src/board/doctor.js';
import { TOOLS } from '../../../firmware-ts/src/board/doctor.js';
import { PACKAGE_ROOT, SAMPLES_DIR } from '../../../firmware-ts/src/paths.js';
import { makeAlsaFileDevices } from '../../helpers/alsa.js';
import { glasses } from './cli.js';

interface DoctorJson {
  ok: boolean;
  checks: DoctorRow[];
}

const dir = mkdtempSync(join(tmpdir(), 'doctor-'));
let present: NodeJS.ProcessEnv;

beforeAll(async () => {
  const captureRaw = join(dir, 'capture.raw');
  // Any audio will do: the doctor only checks that the device opens and delivers.
  writeFileSync(captureRaw, Buffer.alloc(32_000, 1));
  const devices = await makeAlsaFileDevices({ captureRaw, playbackRaw: join(dir, 'playback.raw'), dir });
  present = {
    ALSA_CONFIG_PATH: devices.env.ALSA_CONFIG_PATH,
    GLASSES_AUDIO__MIC_DEVICE: devices.captureDevice,
    GLASSES_AUDIO__SPEAKER_DEVICE: devices.playbackDevice,
    // A dev machine's camera is a file; the doctor checks it is there and readable.
    GLASSES_CAMERA__DEVICE: join(SAMPLES_DIR, 'camera', '1-fruits.jpg'),
  };
});

function row(report: DoctorJson, check: string): DoctorRow {
  const r = report.checks.find((c) => c.check === check);
  if (r === undefined) throw new Error(`no ${check} row`);
  return r;
}

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('glasses doctor', () => {
  it('finds the configured devices, the models and the tools in order, and exits by its verdict', async () => {
    const r = await glasses(['doctor', '--json'], present);
    const report = JSON.parse(r.stdout) as DoctorJson;
    for (const check of [
      'microphone',
      'speaker',
      'camera',
      'model files',
      ...TOOLS.map((t) => `tool ${t.name}`),
    ]) {
      expect(row(report, check), check).toMatchObject({ result: 'ok' });
    }
    expect(row(report, 'microphone').detail).toMatch(/^glasses_test_capture opens; /);
    expect(row(report, 'model files').detail).toMatch(/^\d+ files match the manifest$/);
    expect(row(report, 'disk (working dir)').detail).toContain(process.cwd());
    expect(row(report, 'memory').detail).toMatch(
      /^\d+ [MG]B total, \d+ [MG]B available; the runtime needs ~400 MB$/,
    );
    expect(row(report, 'cpu').detail).toMatch(new RegExp(`^${process.arch}( \\(.*\\))?, \\d+ cores; `));
    // Disk, memory and CPU are this machine's: whatever they are, the exit code follows the rows.
    const failed = report.checks.some((c) => c.result === 'fail');
    expect(report.ok).toBe(!failed);
    expect(r.code).toBe(failed ? 1 : 0);
    for (const c of report.checks) if (c.result !== 'ok') expect(c.fix, c.check).toBeTruthy();
  });

  it('devices that are not there fail, each with how to fix it under the table', async () => {
    const r = await glasses(['doctor'], {
      GLASSES_AUDIO__MIC_DEVICE: 'glasses_no_such_capture',
      GLASSES_AUDIO__SPEAKER_DEVICE: 'glasses_no_such_playback',
      GLASSES_CAMERA__DEVICE: join(dir, 'video9'),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^check\s+result\s+detail$/m);
    expect(r.stdout).toMatch(
      /^microphone\s+FAIL\s+glasses_no_such_capture does not open \(arecord: main:\d+: audio open error: No such file or directory\)/m,
    );
    expect(r.stdout).toMatch(/^camera\s+FAIL\s+no \S+video9 \(camera.device is set\)$/m);
    const fixes = r.stdout.split('How to fix:\n')[1] ?? '';
    expect(fixes).toMatch(/^ {2}microphone: (connect the microphone|set audio\.micDevice)/m);
    expect(fixes).toMatch(/^ {2}speaker: (connect the speaker|set audio\.speakerDevice)/m);
    expect(fixes).toMatch(/^ {2}camera: connect the camera/m);
  });

  it('a camera-less board with no camera configured passes: the camera and ffmpeg only warn', async (ctx) => {
    if (existsSync('/dev/video0')) ctx.skip('this machine has a /dev/video0');
    const { GLASSES_CAMERA__DEVICE: _camera, ...noCamera } = present;
    // Every tool but ffmpeg, which only the camera needs.
    const bin = pathWithout(join(dir, 'bin-no-ffmpeg'), 'ffmpeg');
    const r = await glasses(['doctor', '--json'], { ...noCamera, PATH: bin });
    const report = JSON.parse(r.stdout) as DoctorJson;
    expect(row(report, 'camera')).toMatchObject({ result: 'warn' });
    expect(row(report, 'camera').detail).toContain('optional; camera.device is not set');
    expect(row(report, 'tool ffmpeg')).toMatchObject({ result: 'warn' });
    expect(report.checks.filter((c) => c.result === 'fail')).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('names a model file that does not match the manifest', async () => {
    const models = join(dir, 'models');
    cpSync(join(PACKAGE_ROOT, 'models'), models, { recursive: true });
    const victim = join(models, 'ppocr_keys_v1.txt');
    writeFileSync(victim, `${readFileSync(victim, 'utf8')}extra\n`);
    const r = await glasses(['doctor', '--json'], { ...present, GLASSES_MODELS__DIR: models });
    const report = JSON.parse(r.stdout) as DoctorJson;
    expect(r.code).toBe(1);
    expect(row(report, 'model files').result).toBe('fail');
    expect(row(report, 'model files').detail).toMatch(/^1 of \d+ do not match: ocr_dict: E_MODEL_CHECKSUM/);
    expect(row(report, 'model files').fix).toContain('npm run models');
    expect(row(report, 'disk (models)').detail).toContain(models);
  });

  it('a program missing from PATH is named with its Debian package', async () => {
    // A PATH with every tool the runtime runs but espeak-ng.
    const bin = pathWithout(join(dir, 'bin'), 'espeak-ng');
    const r = await glasses(['doctor', '--json'], { ...present, PATH: bin });
    const report = JSON.parse(r.stdout) as DoctorJson;
    expect(row(report, 'tool espeak-ng')).toEqual({
      check: 'tool espeak-ng',
      result: 'fail',
      detail: 'espeak-ng not found on PATH (speech output)',
      fix: 'sudo apt-get install espeak-ng',
    });
    expect(row(report, 'tool ffmpeg').result).toBe('ok');
    expect(r.code).toBe(1);
  });
});
