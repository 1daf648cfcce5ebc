/** What every `glasses` subcommand provides, and the helpers they share. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, type FrozenConfig } from '../config.js';
import { GlassesError, messageOf } from '../errors.js';
import { createLogger, type Log } from '../log.js';

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

export function boot(values: { config?: string | undefined; 'log-level'?: string | undefined }): {
  config: FrozenConfig;
  log: Log;
} {
  const overrides = values['log-level'] === undefined ? {} : { log: { level: values['log-level'] } };
  const config = loadConfig({ ...(values.config === undefined ? {} : { file: values.config }), overrides });
  return { config, log: createLogger(config.log) };
}

/** A score flag (0..1), or undefined when not given; E_USAGE naming the command and flag otherwise. */
export function scoreFlag(command: string, flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(value >= 0 && value <= 1)) {
    throw new GlassesError('E_USAGE', `glasses ${command}: --${flag} ${text}: expected a number from 0 to 1`);
  }
  return value;
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
