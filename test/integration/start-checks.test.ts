/**
 * The start checks of `glasses run` on the real parts: espeak-ng, pocketsphinx and aplay, through the
 * adapters main.ts builds for the loop, and an ALSA playback device backed by a file; and what the
 * built CLI's health report says of them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pathWithout } from '../helpers/tools-path.js';

import { loadConfig } from '../../firmware-ts/src/config.js';
import type { HealthReport } from '../../firmware-ts/src/health.js';
import { silentLogger } from '../../firmware-ts/src/log.js';
import { createRecognizer, createSpeaker, createSynthesizer } from '../../firmware-ts/src/main.js';
import { runStartChecks } from '../../firmware-ts/src/start-checks.js';
import { SAMPLES_DIR } from '../../firmware-ts/src/paths.js';
import { makeAlsaFileDevices } from '../helpers/alsa.js';
import { glasses } from './board/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'start-checks-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('start checks on the real tools', () => {
  it('speak, understand and play on a working board; a speaker that is not there fails with its code', async () => {
    const log = silentLogger();
    const config = loadConfig({ env: {} });
    const playbackRaw = join(dir, 'played.raw');
    writeFileSync(playbackRaw, '');
    const devices = await makeAlsaFileDevices({
      captureRaw: join(dir, 'unused.raw'),
      playbackRaw,
      dir: join(dir, 'alsa'),
    });
    const alsaConfig = process.env.ALSA_CONFIG_PATH;
    process.env.ALSA_CONFIG_PATH = devices.env.ALSA_CONFIG_PATH;
    const recognizer = createRecognizer(log);
    try {
      const good = await runStartChecks({
        synthesizer: createSynthesizer(config, log),
        recognizer,
        speaker: createSpeaker({ device: devices.playbackDevice }, log),
        signal: AbortSignal.timeout(30_000),
      });
      expect(good).toMatchObject({
        speech: { checked: true, ok: true },
        recognizer: { checked: true, ok: true },
        speaker: { checked: true, ok: true },
      });
      expect(readFileSync(playbackRaw).length).toBeGreaterThanOrEqual(3200);

      const absent = await runStartChecks({
        synthesizer: createSynthesizer(config, log),
        recognizer,
        speaker: createSpeaker({ device: 'glasses_no_such_playback' }, log),
        signal: AbortSignal.timeout(30_000),
      });
      expect(absent.speaker).toMatchObject({ checked: true, ok: false, code: 'E_SPEAKER_OPEN' });
      expect(absent.speaker.checked && !absent.speaker.ok ? absent.speaker.message : '').toContain(
        'glasses_no_such_playback',
      );
    } finally {
      await recognizer.close();
      if (alsaConfig === undefined) delete process.env.ALSA_CONFIG_PATH;
      else process.env.ALSA_CONFIG_PATH = alsaConfig;
    }
  });
});

describe('the health report of glasses run', () => {
  async function runWithHealth(name: string, env: NodeJS.ProcessEnv): Promise<HealthReport> {
    const file = join(dir, name, 'health.json');
    await glasses(
      [
        'run',
        '--mic',
        join(SAMPLES_DIR, 'hey_quark_what_time.wav'),
        '--speaker',
        join(dir, `${name}.wav`),
        '--json',
        '--log-level',
        'warn',
      ],
      { GLASSES_HEALTH__FILE: file, ...env },
    );
    return JSON.parse(readFileSync(file, 'utf8')) as HealthReport;
  }

  it('says the glasses could speak and understand at start; a file speaker is not tried', async () => {
    const report = await runWithHealth('good', {});
    expect(report).toMatchObject({
      modelsLoaded: true,
      speech: { checked: true, ok: true },
      recognizer: { checked: true, ok: true },
      speaker: { checked: false },
      problems: [],
    });
  });

  it('without pocketsphinx and espeak-ng on PATH: both fail with their codes, and it is not ok', async () => {
    const report = await runWithHealth('no-tools', {
      PATH: pathWithout(join(dir, 'bin-neither'), 'pocketsphinx_continuous', 'espeak-ng'),
    });
    expect(report.ok).toBe(false);
    expect(report.speech).toMatchObject({ checked: true, ok: false, code: 'E_TTS_FAILED' });
    expect(report.recognizer).toMatchObject({ checked: true, ok: false });
    expect(report.problems).toContainEqual(
      expect.stringMatching(/^speech: E_TTS_FAILED: .*install espeak-ng$/),
    );
  });
});
