/**
 * The one pino root. JSON lines on the board (stderr is not a terminal under systemd), readable lines
 * in a terminal. Logs go to stderr so that a command's stdout stays machine-readable (JSON lines).
 * Components take `log.child({ component })`; the voice loop puts a turn's `turnId` in the fields of the
 * lines about it (there is no child logger per turn). Object first, message second; never
 * transcripts, audio or images at info level.
 */
import { writeSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { FrozenConfig } from './config.js';
import { stamp } from './util/stamp.js';

export type Log = Logger;

export interface LoggerOptions {
  /**
   * The voice loop's audio ms. Every line then carries it as `atMs`, and in a terminal it is the
   * line's stamp in place of the wall clock, so log lines read on the same clock as the run's
   * timeline between whose lines they appear.
   */
  loopMs?: () => number;
  /** Where readable lines go (default stderr); for tests. */
  writeLine?: (line: string) => void;
}

/** Set once a journal logger exists: the command's last words go to the same journal. */
let journal = false;

/**
 * The line a command ends with on stderr when it fails: with the journal's error priority when the
 * logs go there, so `journalctl -p err` shows why the runtime stopped, not only what it logged.
 */
export function failureLine(text: string): string {
  return journal ? `<3>${text.replace(/[\r\n]+/g, ' ')}` : text;
}

export function createLogger(
  config: Pick<FrozenConfig['log'], 'level' | 'format'>,
  { loopMs, writeLine }: LoggerOptions = {},
): Log {
  const options = {
    level: config.level,
    base: { pid: process.pid },
    ...(loopMs === undefined ? {} : { mixin: () => ({ atMs: Math.round(loopMs()) }) }),
  };
  /** Each entry as one line of `format(entry)`, written at once. */
  const lines = (format: (entry: Record<string, unknown>) => string): Log => {
    const write = writeLine ?? ((line: string) => writeSync(2, `${line}\n`));
    return pino(options, {
      write: (json: string) => {
        write(format(JSON.parse(json) as Record<string, unknown>));
      },
    });
  };
  if (config.format === 'journal') {
    journal = true;
    return lines(journalLogLine);
  }
  const usePretty = config.format === 'pretty' || (config.format === 'auto' && process.stderr.isTTY);
  if (usePretty && loopMs !== undefined) return lines(timelineLogLine);
  if (usePretty) {
    // Synchronous, in-thread: a transport worker would lose the last lines when the CLI exits early.
    return pino(options, pretty({ destination: 2, sync: true, ignore: 'pid,hostname' }));
  }
  return pino(options, pino.destination({ dest: 2, sync: true }));
}

const LEVELS: Readonly<Record<number, string>> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/**
 * A log line as a line of the run's timeline: the loop's audio time, the component, the level when
 * it is not info, the message and the fields (one line: a block would split the timeline).
 */
export function timelineLogLine(entry: Record<string, unknown>): string {
  const { level, time: _time, pid: _pid, hostname: _host, atMs, component, msg, ...fields } = entry;
  const label = typeof level === 'number' ? (LEVELS[level] ?? String(level)) : 'info';
  const rest = fieldsText(fields);
  return [
    `${stamp(typeof atMs === 'number' ? atMs : 0)}  ${(typeof component === 'string' ? component : 'log').padEnd(9)} `,
    label === 'info' ? '' : `${label.toUpperCase()}: `,
    typeof msg === 'string' ? msg : '',
    rest === '' ? '' : `  (${rest})`,
  ].join('');
}

/** A log entry's own fields as `key=json` pairs, for the one-line formats. */
function fieldsText(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
}

/** pino's levels as syslog priorities (sd-daemon(3): SD_CRIT 2, SD_ERR 3, SD_WARNING 4, SD_INFO 6, SD_DEBUG 7). */
const PRIORITIES: Readonly<Record<number, number>> = { 10: 7, 20: 7, 30: 6, 40: 4, 50: 3, 60: 2 };

/**
 * A log entry as one journal line: `<priority>component: message  (fields)`. journald reads the
 * prefix as the entry's priority and stamps the time itself (pid and host too), so they are left
 * out; a newline would start an entry without a prefix, so there is none.
 */
export function journalLogLine(entry: Record<string, unknown>): string {
  const { level, time: _time, pid: _pid, hostname: _host, component, msg, ...fields } = entry;
  const priority = typeof level === 'number' ? (PRIORITIES[level] ?? 6) : 6;
  const rest = fieldsText(fields);
  const text = [
    typeof component === 'string' ? `${component}: ` : '',
    typeof msg === 'string' ? msg : '',
    rest === '' ? '' : `  (${rest})`,
  ].join('');
  return `<${priority}>${text.replace(/[\r\n]+/g, ' ')}`;
}

/** A logger that writes nothing, for unit tests and library use. */
export function silentLogger(): Log {
  return pino({ level: 'silent' });
}
