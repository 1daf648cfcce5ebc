/** What --provision renders for a board: the unit, the sudoers line, the user it would create. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isGlassesError } from '../../../firmware-ts/src/errors.js';
import {
  PROVISION_DEFAULTS,
  renderSudoers,
  renderUnit,
  userAddCommand,
  type BoardFacts,
  type ProvisionPlan,
} from '../../../firmware-ts/src/flash/provision.js';

const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

const plan = (over: Partial<ProvisionPlan> = {}): ProvisionPlan => ({
  ...PROVISION_DEFAULTS,
  init: 'systemd',
  root: '/srv/glasses-b7',
  healthFile: '/run/glasses/health.json',
  serviceScript: '/usr/local/sbin/glasses-service',
  ...over,
});
const facts: BoardFacts = {
  flasher: 'pi',
  node: process.execPath,
  systemctl: '/usr/bin/systemctl',
  journalctl: '/usr/bin/journalctl',
};

describe('the unit --provision installs', () => {
  it("is rendered for the board's root, node and service user, not /opt/glasses and /usr/bin/node", () => {
    const node = '/home/pi/.nvm/versions/node/v20.20.2/bin/node';
    const unit = renderUnit(plan({ user: 'specs' }), { ...facts, node });
    const lines = unit.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        `ExecStart=${node} /srv/glasses-b7/current/dist/firmware-ts/src/cli.js run --service`,
        'WorkingDirectory=/srv/glasses-b7/data',
        'ReadWritePaths=/srv/glasses-b7/data',
        'EnvironmentFile=-/srv/glasses-b7/data/glasses.env',
        'User=specs',
        'Group=specs',
      ]),
    );
    // The header's comments speak of the defaults; no setting is left on them.
    expect(lines.filter((l) => !l.startsWith('#')).join('\n')).not.toMatch(/\/opt\/glasses|\/usr\/bin\/node/);
  });

  it.runIf(hasAnalyze)('passes `systemd-analyze verify` as rendered (skipped without it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glasses-unit-'));
    const file = join(dir, 'glasses.service');
    writeFileSync(file, renderUnit(plan({ root: dir }), facts));
    const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('refuses a root a unit, a script or sudoers would read otherwise, naming the option', () => {
    for (const root of ['/opt/my glasses', '/opt/%h', "/opt/x'y", 'opt/glasses']) {
      let err: unknown;
      try {
        renderUnit(plan({ root }), facts);
      } catch (e) {
        err = e;
      }
      expect(isGlassesError(err, 'E_FLASH_PROVISION')).toBe(true);
      expect((err as Error).message).toContain('--board-root');
    }
  });
});

describe('the restart permission --provision installs', () => {
  it('allows the ssh user exactly the restart and log commands, without a password', () => {
    expect(
      renderSudoers(plan(), facts)
        .split('\n')
        .filter((l) => !l.startsWith('#')),
    ).toEqual([
      'pi ALL=(root) NOPASSWD: /usr/bin/systemctl restart glasses, /usr/bin/journalctl -u glasses -n 20 --no-pager -o cat',
      '',
    ]);
    expect(renderSudoers(plan({ init: 'script' }), facts)).toContain(
      'pi ALL=(root) NOPASSWD: /usr/local/sbin/glasses-service restart, /usr/local/sbin/glasses-service status, /usr/local/sbin/glasses-service log',
    );
  });
});

describe('the service user --provision creates', () => {
  it('is a system account with no login and its data folder as home', () => {
    expect(userAddCommand('glasses', '/opt/glasses/data')).toContain(
      "useradd --system --user-group --home-dir '/opt/glasses/data' --no-create-home --shell /usr/sbin/nologin 'glasses'",
    );
    expect(() => userAddCommand('root; rm -rf /', '/opt/glasses/data')).toThrow(/--service-user/);
  });
});
