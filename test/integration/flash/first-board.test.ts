/**
 * A fresh board brought up as the README says ("A fresh board", and docs/boards.md): the bundle
 * `glasses build` makes (the run's shared x64 one), then one `glasses flash --provision --provision-key`, over a real OpenSSH server on
 * 127.0.0.1, onto a board root in a temp folder. There is no systemd here, so `--init script`, and
 * the board's system folders (service script, its state, sudoers) are temp folders too. The board's
 * microphone and speaker are the real-pace ALSA rig, named in the board's settings file
 * (data/glasses.env) as for any board whose devices are not ALSA's default. The flash must end ok on
 * a live runtime whose health is ok, and the wearer, speaking to it, must get an answer.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RIG_RATE_HZ, startAlsaRig } from '../../../firmware-ts/dev/alsa-rig/rig.js';
import type { HealthReport } from '../../../firmware-ts/src/health.js';
import { HEALTHY_LIVE } from '../../helpers/live-run.js';
import { sharedBundle } from '../../helpers/shared-build.js';
import { rms, spokenRequest } from '../../helpers/spoken-request.js';
import { startSshd, sshdUnavailable } from '../../helpers/sshd.js';
import { glasses } from '../board/cli.js';
import { ARCH } from './fixtures.js';

const skip =
  sshdUnavailable() ??
  (process.getuid?.() === 0
    ? undefined
    : 'provisioning needs root on the board, and the test sshd lets in only this user, who is not root');
const dir = mkdtempSync(join(tmpdir(), 'first-board-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(skip !== undefined)(
  `a fresh board brought up by the docs${skip === undefined ? '' : ` (skipped: ${skip})`}`,
  () => {
    it('glasses flash --provision --provision-key: healthy and live, and the wearer is answered', async () => {
      const server = await startSshd(join(dir, 'sshd'));
      const { build, sources } = await sharedBundle(ARCH);
      const rig = startAlsaRig({ dir: mkdtempSync(join(dir, 'rig-')) });
      const root = join(dir, 'opt-glasses');
      const sys = join(dir, 'system');
      const serviceScript = join(sys, 'sbin', 'glasses-service');
      const healthFile = join(sys, 'run', 'glasses', 'health.json');
      try {
        mkdirSync(join(root, 'data'), { recursive: true, mode: 0o700 });
        writeFileSync(
          join(root, 'data', 'glasses.env'),
          [
            `ALSA_CONFIG_PATH=${rig.env.ALSA_CONFIG_PATH}`,
            `GLASSES_AUDIO__MIC_DEVICE=${rig.captureDevice}`,
            `GLASSES_AUDIO__SPEAKER_DEVICE=${rig.playbackDevice}`,
            '',
          ].join('\n'),
          { mode: 0o600 },
        );
        const r = await glasses([
          'flash',
          '--board',
          server.board,
          '-F',
          server.configFile,
          '--provision',
          '--provision-key',
          '--init',
          'script',
          '--board-root',
          root,
          '--service-user',
          userInfo().username,
          '--node',
          process.execPath,
          '--health-file',
          healthFile,
          '--service-script',
          serviceScript,
          '--service-state-dir',
          join(sys, 'run', 'glasses-service'),
          '--sudoers-dir',
          join(sys, 'sudoers.d'),
          '--bundle',
          build.file,
          '--public-key',
          sources.publicKeyFile,
          '--json',
        ]);
        const result = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
        expect(result, `${r.stdout}\n${r.stderr}`).toMatchObject({
          result: 'ok',
          slot: 'a',
          version: build.version,
        });
        expect(r.code).toBe(0);

        const health = JSON.parse(readFileSync(healthFile, 'utf8')) as HealthReport;
        expect(health).toMatchObject({ ...HEALTHY_LIVE, version: build.version });

        // The wearer speaks to the board; the answer is heard after the last word.
        const request = spokenRequest(dir, 'what time is it');
        const at = rig.say(request);
        const endOfWords = at + request.length - 3 * RIG_RATE_HZ;
        await rig.until(((at + request.length) / RIG_RATE_HZ) * 1000 + 4000);
        const heard = rig.output();
        expect(rms(heard, endOfWords, heard.length)).toBeGreaterThan(300);
        // The runtime's log (the service script's, as the journal would be) holds nothing of it.
        const log = readFileSync(join(sys, 'run', 'glasses-service', 'runtime.log'), 'utf8');
        expect(log).not.toMatch(/what time|It's \d/i);
        expect(log).not.toMatch(/bundled scenario/);
      } finally {
        spawnSync('sh', [serviceScript, 'stop']);
        rig.stop();
        await server.stop();
      }
    }, 600_000);
  },
);
