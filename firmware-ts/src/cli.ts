#!/usr/bin/env node
/** The `glasses` command: one subcommand per capability, each with its own --help. */
import { isGlassesError, messageOf } from './errors.js';
import { failureLine } from './log.js';
import { benchCommand } from './commands/bench.js';
import { buildCommand } from './commands/build.js';
import { devCloudCommand } from './compose/dev-cloud.js';
import { detectCommand } from './commands/detect.js';
import { doctorCommand } from './commands/doctor.js';
import { evalCommand } from './commands/eval.js';
import { flashCommand } from './commands/flash.js';
import { ocrCommand } from './commands/ocr.js';
import { modelsCommand } from './commands/models.js';
import { runCommand } from './commands/run.js';
import { selftestCommand } from './commands/selftest.js';
import { trainWakeCommand } from './commands/train-wake.js';
import { wakeCommand } from './commands/wake.js';
import type { Command } from './commands/command.js';

const COMMANDS: readonly Command[] = [
  runCommand,
  wakeCommand,
  detectCommand,
  ocrCommand,
  benchCommand,
  modelsCommand,
  selftestCommand,
  doctorCommand,
  evalCommand,
  trainWakeCommand,
  devCloudCommand,
  buildCommand,
  flashCommand,
];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: glasses <command> [options]',
    '',
    'The runtime inside the glasses, and the tools to build, test and measure it.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `glasses <command> --help` for its options.',
  ].join('\n');
}

export async function main(
  argv: string[],
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(help());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    process.stderr.write(`glasses: unknown command "${name}"\n\n${help()}\n`);
    return 2;
  }
  try {
    return await command.run({ argv: rest, out });
  } catch (err) {
    if (isGlassesError(err)) {
      process.stderr.write(`${failureLine(`glasses ${name}: ${err.code}: ${err.message}`)}\n`);
      return err.code === 'E_USAGE' ? 2 : 1;
    }
    process.stderr.write(
      `${failureLine(`glasses ${name}: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : messageOf(err)}`)}\n`,
    );
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
