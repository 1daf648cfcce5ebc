/**
 * The one pino root. JSON lines on the board (stderr is not a terminal under systemd), readable lines
 * in a terminal. Logs go to stderr so that a command's stdout stays machine-readable (JSON lines).
 * Components take `log.child({ component })`; the voice loop puts a turn's `turnId` in the fields of the
 * lines about it (there is no child logger per turn). Object first, message second; never
 * transcripts, audio or images at info level.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { FrozenConfig } from './config.js';

export type Log = Logger;

export function createLogger(config: Pick<FrozenConfig['log'], 'level' | 'format'>): Log {
  const usePretty = config.format === 'pretty' || (config.format === 'auto' && process.stderr.isTTY);
  const options = { level: config.level, base: { pid: process.pid } };
  if (usePretty) {
    // Synchronous, in-thread: a transport worker would lose the last lines when the CLI exits early.
    return pino(options, pretty({ destination: 2, sync: true, ignore: 'pid,hostname' }));
  }
  return pino(options, pino.destination({ dest: 2, sync: true }));
}

/** A logger that writes nothing, for unit tests and library use. */
export function silentLogger(): Log {
  return pino({ level: 'silent' });
}
