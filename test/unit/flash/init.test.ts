/** The init systems' commands the board-side watch runs, here with a fake systemctl on PATH. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initCommands, systemdStatusCmd } from '../../../firmware-ts/src/flash/init.js';

/** Runs the status command against a systemctl that prints `show` (or fails with `exit`). */
function status(show: string, exit = 0): { code: number | null; stdout: string } {
  const bin = mkdtempSync(join(tmpdir(), 'glasses-init-'));
  writeFileSync(
    join(bin, 'systemctl'),
    `#!/bin/sh\n[ "$1 $2" = "show glasses" ] || exit 9\nprintf '%s\\n' '${show}' | tr ' ' '\\n'\nexit ${exit}\n`,
    { mode: 0o755 },
  );
  const r = spawnSync('/bin/sh', ['-c', systemdStatusCmd()], {
    encoding: 'utf8',
    env: { PATH: `${bin}:/usr/bin:/bin` },
  });
  return { code: r.status, stdout: r.stdout.trim() };
}

describe('the systemd status command', () => {
  it('says running for a started unit that has not restarted', () => {
    expect(status('LoadState=loaded ActiveState=active SubState=running NRestarts=0').code).toBe(0);
    expect(status('LoadState=loaded ActiveState=activating SubState=start NRestarts=0').code).toBe(0);
  });

  it.each([
    ['LoadState=loaded ActiveState=failed SubState=failed NRestarts=5', /is failed \(failed\), restarted 5/],
    ['LoadState=loaded ActiveState=activating SubState=auto-restart NRestarts=1', /auto-restart/],
    ['LoadState=loaded ActiveState=active SubState=running NRestarts=2', /restarted 2 times/],
    ['LoadState=loaded ActiveState=inactive SubState=dead NRestarts=0', /inactive \(dead\)/],
  ])('says exited (3) for %s', (show, why) => {
    const r = status(show);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(why);
  });

  it('cannot tell (not 0, not 3) without systemd or without the unit', () => {
    expect(status('', 1).code).toBe(4);
    expect(status('LoadState=not-found ActiveState=inactive SubState=dead NRestarts=0').code).toBe(4);
  });
});

describe('initCommands', () => {
  it('goes through sudo -n unless root, for exactly the commands the sudoers drop-in allows', () => {
    const systemd = initCommands('systemd');
    expect(systemd.restart).toBe(
      'if [ "$(id -u)" = 0 ]; then systemctl restart glasses; else sudo -n systemctl restart glasses; fi',
    );
    expect(systemd.log).toContain('sudo -n journalctl -u glasses -n 20 --no-pager -o cat');
    const script = initCommands('script', '/usr/local/sbin/glasses-service');
    expect(script.restart).toContain("sudo -n '/usr/local/sbin/glasses-service' restart");
    expect(script.status).toContain("'/usr/local/sbin/glasses-service' status");
  });
});
