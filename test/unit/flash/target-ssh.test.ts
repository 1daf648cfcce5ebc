/** `--board` specs, and the ssh command line built from them. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGlassesError } from '../../../firmware-ts/src/errors.js';
import { isFlashError } from '../../../firmware-ts/src/flash/errors.js';
import { SshShell } from '../../../firmware-ts/src/flash/ssh.js';
import { parseBoardTarget } from '../../../firmware-ts/src/flash/target.js';

describe('parseBoardTarget', () => {
  it.each([
    ['pi@10.0.0.7', { user: 'pi', host: '10.0.0.7' }],
    ['pi@10.0.0.7:2222', { user: 'pi', host: '10.0.0.7', port: 2222 }],
    ['glasses-3', { host: 'glasses-3' }],
    ['root@[fe80::1%eth0]:22', { user: 'root', host: 'fe80::1%eth0', port: 22 }],
    ['[::1]', { host: '::1' }],
  ])('%s', (spec, want) => {
    expect(parseBoardTarget(spec)).toEqual({ label: spec, ...want });
  });

  it.each([
    '',
    'pi@',
    '@host',
    'pi@host:0',
    'pi@host:70000',
    'pi@host:22x',
    '-oProxyCommand=x',
    'pi@[::1',
    'a b@host',
  ])('refuses %j as a usage error', (spec) => {
    let err: unknown;
    try {
      parseBoardTarget(spec);
    } catch (e) {
      err = e;
    }
    expect(isGlassesError(err, 'E_USAGE')).toBe(true);
  });
});

describe('SshShell', () => {
  it('puts the user options before its defaults (ssh keeps the first value) and runs sh -c', () => {
    const shell = new SshShell(parseBoardTarget('pi@board:2222'), {
      configFile: '/tmp/cfg',
      identityFile: '/tmp/id',
      options: ['BatchMode=no', 'StrictHostKeyChecking=accept-new'],
      connectTimeoutS: 4,
    });
    const args = shell.args("echo 'hi'");
    expect(args).toEqual([
      '-T',
      '-F',
      '/tmp/cfg',
      '-i',
      '/tmp/id',
      '-p',
      '2222',
      '-o',
      'BatchMode=no',
      '-o',
      'StrictHostKeyChecking=accept-new',
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=4',
      '-o',
      'ServerAliveInterval=5',
      '-o',
      'ServerAliveCountMax=3',
      '--',
      'pi@board',
      `sh -c 'echo '\\''hi'\\'''`,
    ]);
  });

  it('leaves the user to the ssh config when the spec has none', () => {
    const args = new SshShell(parseBoardTarget('glasses-3')).args('true');
    expect(args.slice(-2)).toEqual(['glasses-3', "sh -c 'true'"]);
    expect(args).not.toContain('-p');
  });

  it('maps ssh exit 255 to E_FLASH_SSH with its last words, and passes other statuses on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glasses-fake-ssh-'));
    const fakeSsh = join(dir, 'ssh');
    // Exits as OpenSSH does when the host is down; any other remote status is the script's own.
    writeFileSync(
      fakeSsh,
      '#!/bin/sh\nfor last; do :; done\ncase "$last" in *down*) echo "ssh: connect to host board port 22: Connection refused" >&2; exit 255;; esac\nexit 3\n',
      { mode: 0o755 },
    );
    const shell = new SshShell(parseBoardTarget('pi@board'), { program: fakeSsh });
    const signal = AbortSignal.timeout(10_000);
    let err: unknown;
    try {
      await shell.run('down', { signal });
    } catch (e) {
      err = e;
    }
    expect(isFlashError(err, 'E_FLASH_SSH')).toBe(true);
    expect((err as Error).message).toBe(
      'pi@board: ssh failed: ssh: connect to host board port 22: Connection refused',
    );
    expect((await shell.run('up', { signal })).code).toBe(3);
    rmSync(dir, { recursive: true, force: true });
  });
});
