/**
 * The port the flash talks to a board through: run a POSIX sh script there, feed its stdin, read its
 * stdout line by line. The ssh adapter is ssh.ts; tests add one that runs the script locally.
 */
import type { Readable } from 'node:stream';

export interface RemoteRunOptions {
  /** Written to the script's stdin, which is then closed; stdin is closed at once when absent. */
  stdin?: string | Buffer | (() => Readable);
  signal: AbortSignal;
  /** Each complete stdout line as it arrives (steps and progress from the board). */
  onStdoutLine?: (line: string) => void;
  /** Bytes of `stdin` handed to the transport so far. */
  onStdinBytes?: (bytes: number) => void;
}

export interface RemoteResult {
  /** The script's exit status. */
  code: number;
  stdout: string;
  /** The end of stderr (enough for an error message). */
  stderr: string;
}

export interface RemoteShell {
  /** The board's name, for messages. */
  readonly label: string;
  /**
   * Runs `script` with sh on the board. Rejects with E_FLASH_SSH when the board cannot be reached or
   * the connection drops, and with E_FLASH_ABORTED when `signal` aborts (the transport is killed).
   */
  run(script: string, options: RemoteRunOptions): Promise<RemoteResult>;
}

/** One sh word: single quotes, with each ' written as '\''. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
