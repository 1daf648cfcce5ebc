/**
 * Runs a helper program (espeak-ng, pocketsphinx) to completion under an AbortSignal. An abort kills
 * it with SIGKILL and settles only once it has exited, so no child outlives the call. The caller
 * judges the exit status and words its own error.
 */
import { spawn } from 'node:child_process';

export type ChildOutcome =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string }
  | { kind: 'failed-to-start'; error: Error }
  | { kind: 'aborted' };

export interface RunChildOptions {
  /** Written to the child's stdin, which is then closed; stdin is ignored when absent. */
  input?: string | Buffer;
  signal: AbortSignal;
  /** Keep stdout (default) or discard it. */
  stdout?: boolean;
  /** Keep at most the last this many characters of stderr (default all). */
  stderrTail?: number;
  /** Told the child's pid once it is spawned (for debug logs). */
  onSpawn?: (pid: number | undefined) => void;
}

export function runChild(
  command: string,
  args: readonly string[],
  options: RunChildOptions,
): Promise<ChildOutcome> {
  const { signal } = options;
  return new Promise<ChildOutcome>((resolve) => {
    if (signal.aborted) {
      resolve({ kind: 'aborted' });
      return;
    }
    const proc = spawn(command, args, {
      stdio: [
        options.input === undefined ? 'ignore' : 'pipe',
        options.stdout === false ? 'ignore' : 'pipe',
        'pipe',
      ],
    });
    options.onSpawn?.(proc.pid);
    const out: Buffer[] = [];
    let stderr = '';
    let settled = false;
    const settle = (outcome: ChildOutcome): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = (): void => {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        settle({ kind: 'aborted' });
        return;
      }
      proc.once('exit', () => {
        settle({ kind: 'aborted' });
      });
      proc.kill('SIGKILL');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    proc.stdout?.on('data', (d: Buffer) => out.push(d));
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (d: string) => {
      stderr += d;
      if (options.stderrTail !== undefined && stderr.length > options.stderrTail)
        stderr = stderr.slice(-options.stderrTail);
    });
    proc.on('error', (error) => {
      settle({ kind: 'failed-to-start', error });
    });
    proc.on('close', (code, sig) => {
      if (signal.aborted) return;
      settle({ kind: 'exited', code, signal: sig, stdout: Buffer.concat(out), stderr });
    });
    if (proc.stdin !== null) {
      // EPIPE when the child exits before reading its input shows in its exit status.
      proc.stdin.on('error', () => undefined);
      proc.stdin.end(options.input);
    }
  });
}

/** "exited with code 1 (last stderr line)" or "was killed by SIGSEGV", for error messages. */
export function describeExit(
  outcome: { code: number | null; signal: NodeJS.Signals | null },
  detail: string,
): string {
  const how =
    outcome.code === null
      ? `was killed by ${outcome.signal ?? 'a signal'}`
      : `exited with code ${outcome.code}`;
  return `${how}${detail === '' ? '' : ` (${detail})`}`;
}
