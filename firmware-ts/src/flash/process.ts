/**
 * Runs a local program (ssh, or sh in tests) with streamed stdin and line-split stdout, under an
 * AbortSignal. Abort kills it with SIGKILL and settles once it has exited, so no child outlives the
 * call. The caller words errors from the exit status.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

import type { RemoteResult, RemoteRunOptions } from './shell.js';
import { GlassesError } from '../errors.js';

const STDERR_TAIL = 16_384;
const STDOUT_MAX = 4 * 1024 * 1024;

export function runProcess(
  command: string,
  args: readonly string[],
  options: RemoteRunOptions & { label: string },
): Promise<RemoteResult> {
  const { signal } = options;
  return new Promise<RemoteResult>((resolve, reject) => {
    if (signal.aborted) {
      reject(new GlassesError('E_FLASH_ABORTED', `${options.label}: interrupted before it started`));
      return;
    }
    // Its own process group: Ctrl-C in the terminal reaches only us, and we decide what to stop
    // (an ssh killed by the terminal mid-switch would look like a dropped connection).
    const proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let pending = '';
    let stderr = '';
    let settled = false;
    let source: Readable | undefined = undefined;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      source?.destroy();
      fn();
    };
    const kill = (): void => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    };
    const onAbort = (): void => {
      kill();
      proc.once('close', () => {
        settle(() => {
          reject(new GlassesError('E_FLASH_ABORTED', `${options.label}: interrupted`));
        });
      });
    };
    signal.addEventListener('abort', onAbort, { once: true });

    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d: string) => {
      if (stdout.length < STDOUT_MAX) stdout += d;
      pending += d;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        options.onStdoutLine?.(line);
      }
    });
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d: string) => {
      stderr = (stderr + d).slice(-STDERR_TAIL);
    });
    proc.on('error', (err) => {
      settle(() => {
        reject(
          new GlassesError('E_FLASH_SSH', `${options.label}: cannot run ${command} (${err.message})`, {
            cause: err,
          }),
        );
      });
    });
    proc.on('close', (code, sig) => {
      if (signal.aborted) return;
      if (pending !== '') options.onStdoutLine?.(pending);
      settle(() => {
        resolve({ code: code ?? (sig === null ? -1 : 128), stdout, stderr });
      });
    });

    // EPIPE when the far end stops reading early (a refused upload) shows in the exit status instead.
    proc.stdin.on('error', () => undefined);
    const input = options.stdin;
    if (input === undefined || typeof input === 'string' || Buffer.isBuffer(input)) {
      proc.stdin.end(input);
      return;
    }
    const stream = input();
    source = stream;
    let sent = 0;
    stream.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      options.onStdinBytes?.(sent);
    });
    stream.on('error', (err) => {
      kill();
      settle(() => {
        reject(
          new GlassesError(
            'E_FLASH_BUNDLE',
            `${options.label}: cannot read what is being sent (${err.message})`,
            {
              cause: err,
            },
          ),
        );
      });
    });
    stream.pipe(proc.stdin);
  });
}
