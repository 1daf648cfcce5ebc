/**
 * `glasses run` live on the real-pace ALSA rig (firmware-ts/dev/alsa-rig): real arecord and aplay,
 * the wearer speaking once the glasses are ready, the answer heard on the speaker at its time.
 * - As the board's service (--service, as the unit and the service script start it): live on the
 *   configured microphone although ALSA lists no capture device, healthy, one journal line per log
 *   entry with its priority, nothing on stdout.
 * - Without --service, a configured microphone is live too: not the demo.
 * - A file microphone under the service is not healthy; a voice that does not exist is said at start.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RIG_RATE_HZ } from '../../../firmware-ts/dev/alsa-rig/rig.js';
import { SAMPLES_DIR } from '../../../firmware-ts/src/paths.js';
import { HEALTHY_LIVE, readHealth, runOnRig, type LiveRun } from '../../helpers/live-run.js';
import { rms, spokenRequest } from '../../helpers/spoken-request.js';
import { pathWithout } from '../../helpers/tools-path.js';
import { glasses } from '../board/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'live-service-'));
let request: Int16Array;

beforeAll(() => {
  request = spokenRequest(dir, 'what time is it');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The answer: sound on the speaker after the wearer's last word (the request ends in 3 s of room). */
function answerLevel(run: LiveRun): number {
  const endOfWords = run.spokeAt + run.requestSamples - 3 * RIG_RATE_HZ;
  return rms(run.heard, endOfWords, run.heard.length);
}

describe('glasses run on the real-pace rig', () => {
  it('--service: live on the configured microphone, healthy, the answer heard; journal lines only', async () => {
    const run = await runOnRig(dir, request, 'service', ['--service'], { GLASSES_LOG__FORMAT: 'journal' });
    expect(run.health).toMatchObject(HEALTHY_LIVE);
    expect(answerLevel(run)).toBeGreaterThan(300);
    // Before the wearer spoke: the chime is not there, only the start check's silence.
    expect(rms(run.heard, 0, run.spokeAt)).toBeLessThan(50);
    // No timeline: stdout is the journal, and what it would say is for a terminal.
    expect(run.stdout).toBe('');
    const lines = run.stderr.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^<[0-7]>\S/);
    expect(lines.some((l) => l.startsWith('<6>'))).toBe(true);
    // Nothing the wearer said or was told.
    expect(run.stderr).not.toMatch(/what time|It's \d/i);
    expect(run.code).toBe(0);
    // The demo's answers folder is never made.
    expect(existsSync(join(run.cwd, '.demo'))).toBe(false);
  }, 120_000);

  it('without --service, a configured microphone runs live, not the demo', async () => {
    const run = await runOnRig(dir, request, 'configured', []);
    expect(run.health?.ok).toBe(true);
    expect(answerLevel(run)).toBeGreaterThan(300);
    expect(run.stdout).toMatch(/say\s+an answer made on the device/);
    expect(run.stdout).not.toMatch(/bundled scenario/);
    expect(existsSync(join(run.cwd, '.demo'))).toBe(false);
  }, 120_000);

  it('a tts.voice that does not exist is said at start, naming the setting', async () => {
    const run = await runOnRig(dir, request, 'bad-voice', [], {
      GLASSES_TTS__VOICE: 'zz',
      GLASSES_LOG__FORMAT: 'json',
    });
    expect(run.health?.ok).toBe(false);
    expect(run.health?.speech).toMatchObject({ checked: true, ok: false, code: 'E_TTS_FAILED' });
    const warn = run.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; part?: string; err?: string })
      .find((e) => e.msg === 'start check failed' && e.part === 'speech');
    expect(warn?.err).toMatch(/-v zz: .*tts\.voice/);
  }, 120_000);
});

describe('a file microphone under the service', () => {
  it('makes the health report fail, saying to configure the capture device', async () => {
    const out = mkdtempSync(join(dir, 'file-mic-'));
    const healthFile = join(out, 'health.json');
    const r = await glasses(
      [
        'run',
        '--service',
        '--mic',
        join(SAMPLES_DIR, 'hey_quark_what_time.wav'),
        '--speaker',
        join(out, 'said.wav'),
      ],
      { GLASSES_HEALTH__FILE: healthFile },
    );
    expect(r.stdout).toBe('');
    const health = readHealth(healthFile);
    expect(health?.ok).toBe(false);
    expect(health?.problems).toContainEqual(expect.stringMatching(/^E_MIC_OPEN: .*audio\.micDevice/));
  });

  it('--service --demo is refused', async () => {
    const r = await glasses(['run', '--service', '--demo']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/E_USAGE.*--demo and --service/);
  });
});

describe('a live microphone that ends', () => {
  it('fails the run (so the unit restarts it), its last line an error in the journal', async () => {
    // An arecord that gives 2 s of silence, then exits 0, as a capture device that went away can.
    const bin = pathWithout(mkdtempSync(join(dir, 'bin-')) + '/bin', 'arecord');
    writeFileSync(join(bin, 'arecord'), '#!/bin/sh\nhead -c 64000 /dev/zero\nexit 0\n');
    chmodSync(join(bin, 'arecord'), 0o755);
    const r = await glasses(['run', '--service'], {
      PATH: bin,
      GLASSES_LOG__FORMAT: 'journal',
      GLASSES_AUDIO__SPEAKER_DEVICE: 'glasses_no_speaker_here',
    });
    expect(r.code).toBe(1);
    const last = r.stderr.trim().split('\n').at(-1) ?? '';
    expect(last).toMatch(/^<3>glasses run: E_MIC_FAILED: microphone alsa:default: the capture stream ended/);
  });
});
