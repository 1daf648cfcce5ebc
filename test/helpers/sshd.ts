/**
 * A real OpenSSH server for tests, on 127.0.0.1 and a free port, with a temporary host key and client
 * key, that lets in only the user running the tests. The client side is an ssh_config file, so the
 * code under test runs the system `ssh` exactly as it would for a person (`-F` instead of ~/.ssh).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';

/** Why an sshd test cannot run here, or undefined when it can. */
export function sshdUnavailable(): string | undefined {
  for (const tool of [SSHD, '/usr/bin/ssh', '/usr/bin/ssh-keygen'])
    if (!existsSync(tool))
      return `${tool} is missing (Debian: apt-get install openssh-server openssh-client)`;
  return undefined;
}

export interface SshServer {
  host: string;
  port: number;
  user: string;
  /** `user@127.0.0.1:port`, as `glasses flash --board` takes it. */
  board: string;
  /** Client config (identity, known host): pass as `ssh -F`. */
  configFile: string;
  /**
   * Kills every per-connection sshd process, as a pulled cable or a dead link would, and returns how
   * many it killed. A connection that ends on its own while this looks is not counted.
   */
  dropConnections(): number;
  /** What sshd has logged so far, for a failing test's message. */
  log(): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no port'));
        else resolve(address.port);
      });
    });
  });
}

function keygen(file: string): void {
  execFileSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'glasses-test', '-f', file]);
}

/** Children of `pid`, read from /proc (Linux): sshd forks one process per connection. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name may hold spaces and parentheses; the fields after the last ')' do not.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) out.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

function killAll(pids: number[]): number {
  let killed = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
      killed += 1;
    } catch (err) {
      // ESRCH: it ended between the listing and the kill (the client closed it), which is the aim.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
  return killed;
}

function waitListening(proc: ChildProcess, logs: () => string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      finish(new Error(`sshd did not start within ${timeoutMs} ms:\n${logs()}`));
    }, timeoutMs);
    const onData = (): void => {
      if (/Server listening on/.test(logs())) finish();
    };
    const onExit = (code: number | null): void => {
      finish(new Error(`sshd exited with ${String(code)} before listening:\n${logs()}`));
    };
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      proc.stderr?.off('data', onData);
      proc.off('exit', onExit);
      if (err === undefined) resolve();
      else reject(err);
    };
    proc.stderr?.on('data', onData);
    proc.once('exit', onExit);
  });
}

export async function startSshd(dir: string): Promise<SshServer> {
  mkdirSync(dir, { recursive: true });
  const user = userInfo().username;
  const isRoot = process.getuid?.() === 0;
  if (isRoot && !existsSync('/run/sshd')) {
    // sshd running as root insists on its privilege separation folder; Debian's unit makes it at boot
    // (RuntimeDirectory=sshd), which a container without systemd never runs.
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  }
  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'client_ed25519');
  keygen(hostKey);
  keygen(clientKey);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`), { mode: 0o600 });

  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        // The temp folder is not owned the way StrictModes wants ~/.ssh to be.
        'StrictModes no',
        // PAM would want a service stack and a login session; a test needs neither.
        'UsePAM no',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        // Root may log in with a key only (the default, said out loud because tests run as root here).
        `PermitRootLogin ${isRoot ? 'prohibit-password' : 'no'}`,
        `AllowUsers ${user}`,
        // The flash tests open a handful of connections at once (two boards, reconnects).
        'MaxStartups 50',
        // bash reads ~/.bashrc for ssh commands when SHLVL is unset; root's here runs `pyenv init`
        // (half a second per connection). A board's shell starts in milliseconds; so does this one.
        'SetEnv SHLVL=1',
        'LogLevel INFO',
        '',
      ].join('\n'),
    );
    const known = join(dir, 'known_hosts');
    writeFileSync(known, `[127.0.0.1]:${port} ${readFileSync(`${hostKey}.pub`, 'utf8')}`);
    const configFile = join(dir, 'ssh_config');
    writeFileSync(
      configFile,
      [
        'Host *',
        `  IdentityFile ${clientKey}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${known}`,
        '  GlobalKnownHostsFile /dev/null',
        '  StrictHostKeyChecking yes',
        '  LogLevel ERROR',
        '',
      ].join('\n'),
    );

    let logs = '';
    const proc = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d: string) => {
      logs += d;
    });
    try {
      await waitListening(proc, () => logs, 10_000);
    } catch (err) {
      proc.kill('SIGKILL');
      // Another process may have taken the port between freePort() and sshd's bind.
      if (attempt < 3 && /Address already in use|Bind to port/.test(logs)) continue;
      throw err;
    }
    const pid = proc.pid ?? -1;
    return {
      host: '127.0.0.1',
      port,
      user,
      board: `${user}@127.0.0.1:${port}`,
      configFile,
      dropConnections: () => killAll(childrenOf(pid)),
      log: () => logs,
      stop: () =>
        new Promise<void>((resolve) => {
          if (proc.exitCode !== null || proc.signalCode !== null) {
            resolve();
            return;
          }
          proc.once('exit', () => {
            resolve();
          });
          proc.kill('SIGTERM');
        }),
    };
  }
}
