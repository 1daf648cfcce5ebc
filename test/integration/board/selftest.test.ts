/**
 * `glasses selftest` through the built CLI: the real models, wake pipeline, detector and OCR on the
 * bundled samples, the real espeak-ng and pocketsphinx, and the real arecord/aplay paths through ALSA
 * devices backed by files.
 */
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathWithout } from '../../helpers/tools-path.js';
import { readWavAs16kMono } from '../../../firmware-ts/src/audio/wav.js';

import { PACKAGE_ROOT, SAMPLES_DIR } from '../../../firmware-ts/src/paths.js';
import { makeAlsaFileDevices } from '../../helpers/alsa.js';
import { glasses, type CliRun, type SelftestJson } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'selftest-'));
/** Device names ALSA does not know, and a configured camera path that does not exist. */
const ABSENT = {
  GLASSES_AUDIO__MIC_DEVICE: 'glasses_no_such_capture',
  GLASSES_AUDIO__SPEAKER_DEVICE: 'glasses_no_such_playback',
  GLASSES_CAMERA__DEVICE: join(dir, 'no-video0'),
};

function results(report: SelftestJson): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.check, c.result]));
}

let absent: CliRun;
let absentReport: SelftestJson;

beforeAll(async () => {
  absent = await glasses(['selftest', '--json', '--log-level', 'warn'], ABSENT);
  absentReport = JSON.parse(absent.stdout) as SelftestJson;
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('glasses selftest', () => {
  it('passes the models, the pipeline and speech, and fails the configured devices that are not there', () => {
    expect(results(absentReport)).toEqual({
      'model files': 'pass',
      'models load': 'pass',
      'wake phrase': 'pass',
      'object detector': 'pass',
      'text reader': 'pass',
      speech: 'pass',
      'command recognition': 'pass',
      microphone: 'fail',
      speaker: 'fail',
      camera: 'fail',
    });
    expect(absent.code, absent.stderr).toBe(1);
    expect(absentReport.ok).toBe(false);
    expect(absentReport.arch).toBe(process.arch);
    const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'models', 'manifest.json'), 'utf8')) as {
      models: unknown[];
    };
    expect(absentReport.checks[1]?.detail).toMatch(new RegExp(`^${manifest.models.length} loaded: `));
    expect(absentReport.checks.find((c) => c.check === 'microphone')?.detail).toContain(
      'E_MIC_OPEN: no ALSA device glasses_no_such_capture',
    );
    expect(absentReport.checks.find((c) => c.check === 'speaker')?.detail).toContain('audio.speakerDevice');
    expect(absentReport.checks.find((c) => c.check === 'camera')?.detail).toContain(
      'which camera.device names',
    );
    expect(absentReport.checks.find((c) => c.check === 'command recognition')?.detail).toMatch(
      /^"what time is it" \(synthesised\) -> time, confidence \d\.\d\d, \d+ ms$/,
    );
  });

  it('without pocketsphinx and espeak-ng on PATH, the board cannot understand or speak: it fails', async () => {
    const captureRaw = join(dir, 'hum.raw');
    writeFileSync(captureRaw, Buffer.alloc(32_000, 1));
    const devices = await makeAlsaFileDevices({
      captureRaw,
      playbackRaw: join(dir, 'played.raw'),
      dir: join(dir, 'alsa-tools'),
    });
    const withDevices = {
      ALSA_CONFIG_PATH: devices.env.ALSA_CONFIG_PATH,
      GLASSES_AUDIO__MIC_DEVICE: devices.captureDevice,
      GLASSES_AUDIO__SPEAKER_DEVICE: devices.playbackDevice,
    };
    const neither = await glasses(['selftest', '--json', '--log-level', 'warn'], {
      ...withDevices,
      PATH: pathWithout(join(dir, 'bin-neither'), 'pocketsphinx_continuous', 'espeak-ng'),
    });
    const report = JSON.parse(neither.stdout) as SelftestJson;
    expect(neither.code).toBe(1);
    expect(report.ok).toBe(false);
    const speech = report.checks.find((c) => c.check === 'speech');
    expect(speech?.result).toBe('fail');
    expect(speech?.detail).toMatch(/^E_TTS_FAILED: espeak-ng .*cannot start it .*; install espeak-ng$/);
    expect(report.checks.find((c) => c.check === 'command recognition')?.result).toBe('fail');
    // The devices are there: only what cannot understand or speak fails.
    expect(report.checks.filter((c) => c.result === 'fail').map((c) => c.check)).toEqual([
      'speech',
      'command recognition',
    ]);

    const noDecoder = await glasses(['selftest', '--json', '--log-level', 'warn'], {
      ...withDevices,
      PATH: pathWithout(join(dir, 'bin-no-decoder'), 'pocketsphinx_continuous'),
    });
    const heard = JSON.parse(noDecoder.stdout) as SelftestJson;
    expect(noDecoder.code).toBe(1);
    expect(heard.checks.find((c) => c.check === 'speech')?.result).toBe('pass');
    expect(heard.checks.find((c) => c.check === 'command recognition')).toMatchObject({ result: 'fail' });
    expect(heard.checks.find((c) => c.check === 'command recognition')?.detail).toMatch(
      /^E_RECOGNIZER_START: speech: cannot start pocketsphinx_continuous .*install the Debian packages pocketsphinx and pocketsphinx-en-us$/,
    );
  });

  it('reports what the pipeline saw: the wake phrase, fruit with boxes inside the photo, the price', () => {
    const { wake, objects, text } = absentReport;
    expect(wake?.file).toBe(join(SAMPLES_DIR, 'hey_quark.wav'));
    expect(wake?.detections.map((d) => d.phrase)).toEqual(['hey_quark']);
    expect(wake?.peaks.hey_quark).toBeGreaterThan(0.9);
    expect(objects?.detector).toBe('centernet');
    expect(objects?.objects.length).toBeGreaterThan(0);
    for (const o of objects?.objects ?? []) {
      expect(['apple', 'orange', 'banana']).toContain(o.label);
      const [x, y, w, h] = o.box;
      // 1-fruits.jpg is 512x480.
      expect(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 512 && y + h <= 480).toBe(true);
      // Rounded to 4 decimals in the JSON.
      expect(Math.round(o.score * 1e4) / 1e4).toBe(o.score);
    }
    expect(text?.lines.map((l) => l.text)).toEqual(['Red apples', '￥12.50']);
  });

  it('opens the configured microphone, speaker and camera when they are there; the same samples give the same answers', async () => {
    const { pcm } = await readWavAs16kMono(join(SAMPLES_DIR, 'hey_quark.wav'));
    const captureRaw = join(dir, 'capture.raw');
    const playbackRaw = join(dir, 'playback.raw');
    // The sample opens with 1 s of digital silence, which the mic check rightly calls a muted mic:
    // the capture device plays the speech from its first sound.
    const speech = pcm.subarray(pcm.findIndex((s) => s !== 0));
    writeFileSync(captureRaw, Buffer.from(speech.buffer, speech.byteOffset, speech.byteLength));
    writeFileSync(playbackRaw, '');
    const devices = await makeAlsaFileDevices({ captureRaw, playbackRaw, dir: join(dir, 'alsa') });
    const photo = join(dir, 'camera.jpg');
    copyFileSync(join(SAMPLES_DIR, 'camera', '1-fruits.jpg'), photo);
    const r = await glasses(['selftest', '--json', '--log-level', 'warn'], {
      ALSA_CONFIG_PATH: devices.env.ALSA_CONFIG_PATH,
      GLASSES_AUDIO__MIC_DEVICE: devices.captureDevice,
      GLASSES_AUDIO__SPEAKER_DEVICE: devices.playbackDevice,
      GLASSES_CAMERA__DEVICE: photo,
    });
    const report = JSON.parse(r.stdout) as SelftestJson;
    expect(report.checks.filter((c) => c.result !== 'pass')).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    const peakDb = 20 * Math.log10(Math.max(...pcm.map((s) => Math.abs(s))) / 32768);
    // The mic check reads the first 0.25 s of the file; its peak can only be at or below the file's.
    const mic = /peak (-?\d+) dBFS/.exec(report.checks.find((c) => c.check === 'microphone')?.detail ?? '');
    expect(Number(mic?.[1])).toBeLessThanOrEqual(Math.round(peakDb));
    // 0.1 s of 16-bit silence reached the playback file (aplay pads its last period with zeros).
    const played = readFileSync(playbackRaw);
    expect(played.length).toBeGreaterThanOrEqual(3200);
    expect(played.every((b) => b === 0)).toBe(true);
    expect(report.checks.find((c) => c.check === 'camera')?.detail).toBe(
      `${photo}: one 512x480 frame (82 kB)`,
    );
    // Two runs compare equal: what the --json is for.
    expect({ wake: report.wake, objects: report.objects, text: report.text }).toEqual({
      wake: absentReport.wake,
      objects: absentReport.objects,
      text: absentReport.text,
    });
  });

  it('fails a microphone that delivers only zeros (muted or not connected)', async () => {
    const captureRaw = join(dir, 'zeros.raw');
    writeFileSync(captureRaw, Buffer.alloc(32_000));
    const devices = await makeAlsaFileDevices({
      captureRaw,
      playbackRaw: join(dir, 'unused.raw'),
      dir: join(dir, 'alsa-zeros'),
    });
    const r = await glasses(['selftest', '--json', '--log-level', 'warn'], {
      ...ABSENT,
      ALSA_CONFIG_PATH: devices.env.ALSA_CONFIG_PATH,
      GLASSES_AUDIO__MIC_DEVICE: devices.captureDevice,
    });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as SelftestJson;
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.check === 'microphone')).toMatchObject({ result: 'fail' });
    expect(report.checks.find((c) => c.check === 'microphone')?.detail).toContain('every sample 0');
  });

  it('a model file that does not match its manifest fails the run and is named in the table', async () => {
    const models = join(dir, 'models');
    cpSync(join(PACKAGE_ROOT, 'models'), models, { recursive: true });
    const victim = join(models, 'hey_rhasspy_v0.1.onnx');
    const bytes = readFileSync(victim);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    writeFileSync(victim, bytes);
    expect(statSync(victim).size).toBe(bytes.length);
    const r = await glasses(['selftest', '--log-level', 'warn'], { ...ABSENT, GLASSES_MODELS__DIR: models });
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^glasses \d+\.\d+\.\d+ on node v\d+.* linux\/(x64|arm64), \d+ cores$/);
    expect(lines[1]).toMatch(/^check\s+result\s+detail\s+ms$/);
    expect(r.stdout).toMatch(
      /^model files\s+FAIL\s+E_MODEL_CHECKSUM: model file \S+hey_rhasspy_v0\.1\.onnx \(hey_rhasspy\)/m,
    );
    expect(r.stdout).toMatch(/^models load\s+FAIL\s+E_MODEL_CHECKSUM: .*hey_rhasspy/m);
    // The default phrase's own models are intact, so its check still passes.
    expect(r.stdout).toMatch(/^wake phrase\s+PASS\s+hey_quark at /m);
    // The two model checks, and the three configured devices that are not there.
    expect(lines.at(-1)).toBe('selftest FAILED: 5 failed, 5 passed, 0 skipped');
  });

  it('rejects arguments it does not take', async () => {
    const r = await glasses(['selftest', 'extra']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('E_USAGE');
    const help = await glasses(['selftest', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: glasses selftest [--json]');
  });
});
