/** The systemd unit shipped in every bundle: the settings flashing relies on, and systemd's own check. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';

const UNIT = join(PACKAGE_ROOT, 'firmware-ts', 'assets', 'board', 'glasses.service');
const text = readFileSync(UNIT, 'utf8');
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

function section(name: string): string[] {
  const body = text.split(/^\[/m).find((s) => s.startsWith(`${name}]`)) ?? '';
  return body.split('\n').filter((l) => /^\w+=/.test(l));
}

describe('glasses.service', () => {
  it('runs the current slot from the persistent data folder, with the health file under /run/glasses', () => {
    expect(section('Service')).toEqual(
      expect.arrayContaining([
        'ExecStart=/usr/bin/node /opt/glasses/current/dist/firmware-ts/src/cli.js run --service',
        'WorkingDirectory=/opt/glasses/data',
        'Environment=GLASSES_HEALTH__FILE=/run/glasses/health.json',
        'RuntimeDirectory=glasses',
        'Restart=on-failure',
        'ReadWritePaths=/opt/glasses/data',
      ]),
    );
  });

  it('gives up after a bounded number of failed starts, so a bad build cannot crash-loop forever', () => {
    const unit = section('Unit');
    const interval = Number(/^StartLimitIntervalSec=(\d+)$/m.exec(unit.join('\n'))?.[1]);
    const burst = Number(/^StartLimitBurst=(\d+)$/m.exec(unit.join('\n'))?.[1]);
    const restartSec = Number(/^RestartSec=(\d+)$/m.exec(text)?.[1]);
    expect(burst).toBeGreaterThan(1);
    // The limit only bites if `burst` starts fit in the interval: a runtime that loads its models and
    // then dies a minute later must still trip it.
    expect(burst * (restartSec + 60)).toBeLessThanOrEqual(interval);
  });

  it.runIf(hasAnalyze)(
    'passes `systemd-analyze verify` with no warning (skipped where systemd-analyze is not installed)',
    () => {
      const r = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
      expect(r.stderr + r.stdout).toBe('');
      expect(r.status).toBe(0);
    },
  );
});
