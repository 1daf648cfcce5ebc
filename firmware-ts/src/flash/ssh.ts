/**
 * The system OpenSSH client as a RemoteShell. The user's ssh config, agent and known hosts apply as
 * for any `ssh` they type; BatchMode makes a missing key or unknown host key fail at once instead of
 * prompting a terminal that a parallel flash cannot share.
 */

import { runProcess } from './process.js';
import { shQuote, type RemoteResult, type RemoteRunOptions, type RemoteShell } from './shell.js';
import type { BoardTarget } from './target.js';
import { GlassesError } from '../errors.js';

export interface SshOptions {
  /** The ssh program (default `ssh` from PATH). */
  program?: string;
  /** `-F`: a config file instead of ~/.ssh/config. */
  configFile?: string;
  /** `-i`: an identity file. */
  identityFile?: string;
  /** `-o` options, e.g. `StrictHostKeyChecking=accept-new`; they win over the defaults below. */
  options?: readonly string[];
  connectTimeoutS?: number;
}

/** ssh's own failures (unreachable, refused, auth, dropped) all exit 255; a remote script never does here. */
const SSH_FAILED = 255;

export class SshShell implements RemoteShell {
  readonly label: string;

  constructor(
    private readonly target: BoardTarget,
    private readonly ssh: SshOptions = {},
  ) {
    this.label = target.label;
  }

  /** The argument list for one remote run, exposed for tests. */
  args(script: string): string[] {
    const t = this.target;
    const args = ['-T'];
    if (this.ssh.configFile !== undefined) args.push('-F', this.ssh.configFile);
    if (this.ssh.identityFile !== undefined) args.push('-i', this.ssh.identityFile);
    if (t.port !== undefined) args.push('-p', String(t.port));
    // ssh keeps the first value it sees for an option: the user's -o go before our defaults.
    for (const o of this.ssh.options ?? []) args.push('-o', o);
    args.push(
      '-o',
      'BatchMode=yes',
      '-o',
      `ConnectTimeout=${this.ssh.connectTimeoutS ?? 10}`,
      // A board that vanishes (Wi-Fi, power) is noticed within ~15 s instead of TCP's minutes.
      '-o',
      'ServerAliveInterval=5',
      '-o',
      'ServerAliveCountMax=3',
    );
    args.push('--', t.user === undefined ? t.host : `${t.user}@${t.host}`);
    // The login shell may be anything (fish, zsh); it is asked only to start sh with the script.
    args.push(`sh -c ${shQuote(script)}`);
    return args;
  }

  async run(script: string, options: RemoteRunOptions): Promise<RemoteResult> {
    const result = await runProcess(this.ssh.program ?? 'ssh', this.args(script), {
      ...options,
      label: this.label,
    });
    if (result.code === SSH_FAILED) {
      const why = result.stderr.trim().split('\n').slice(-3).join('; ') || 'ssh exited with 255';
      throw new GlassesError('E_FLASH_SSH', `${this.label}: ssh failed: ${why}`, {
        details: { board: this.label },
      });
    }
    return result;
  }
}
