/** What every `glasses` subcommand provides, and the helpers they share. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, type FrozenConfig } from '../config.js';
import { GlassesError, messageOf } from '../errors.js';
import { createLogger, type Log, type LoggerOptions } from '../log.js';

export interface CommandContext {
  argv: string[];
  /** stdout, for the command's results (JSON lines); logs go to stderr. */
  out: (line: string) => void;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(ctx: CommandContext): Promise<number>;
}

/** Options every subcommand takes. */
export const COMMON_OPTIONS = {
  config: { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const COMMON_USAGE = `Common options:
  --config FILE       JSON config file (also GLASSES_CONFIG); GLASSES_* variables override it
  --log-level LEVEL   fatal, error, warn, info, debug, trace or silent (logs go to stderr)
  -h, --help          this help`;

export function parse<O extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: string[],
  options: O,
): ReturnType<
  typeof parseArgs<{ options: O & typeof COMMON_OPTIONS; allowPositionals: true; strict: true }>
> {
  try {
    return parseArgs({
      args: argv,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new GlassesError(
      'E_USAGE',
      `glasses ${command}: ${messageOf(err)} (see glasses ${command} --help)`,
    );
  }
}

export function boot(
  values: { config?: string | undefined; 'log-level'?: string | undefined },
  logOptions: LoggerOptions = {},
): {
  config: FrozenConfig;
  log: Log;
} {
  const overrides = values['log-level'] === undefined ? {} : { log: { level: values['log-level'] } };
  const config = loadConfig({ ...(values.config === undefined ? {} : { file: values.config }), overrides });
  return { config, log: createLogger(config.log, logOptions) };
}

/** E_USAGE for `glasses COMMAND`, saying why and pointing at its --help. */
export function usageError(command: string, why: string): GlassesError {
  return new GlassesError('E_USAGE', `glasses ${command}: ${why} (see glasses ${command} --help)`);
}

/**
 * A number flag from `min` to `max` (whole when `integer`), or undefined when not given; E_USAGE
 * naming the command and the flag otherwise (an empty value too, which Number() would read as 0).
 */
export function numberFlag(
  command: string,
  flag: string,
  text: string | undefined,
  {
    min = 0,
    max = Number.MAX_SAFE_INTEGER,
    integer = false,
  }: { min?: number; max?: number; integer?: boolean } = {},
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new GlassesError(
      'E_USAGE',
      `glasses ${command}: --${flag} ${text}: expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`,
    );
  }
  return n;
}

/** A score flag (0..1), or undefined when not given; E_USAGE naming the command and flag otherwise. */
export function scoreFlag(command: string, flag: string, text: string | undefined): number | undefined {
  return numberFlag(command, flag, text, { max: 1 });
}

export function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Runs `fn` with a signal that aborts on Ctrl-C or SIGTERM, so a live command ends cleanly. */
export async function untilInterrupted<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = (): void => {
    controller.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
