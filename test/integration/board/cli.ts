/** The built `glasses` CLI in a child process, as a user or the flash tool runs it on a board. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SelftestReport } from '../../../firmware-ts/src/board/selftest.js';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';

export const CLI = join(PACKAGE_ROOT, 'dist', 'firmware-ts', 'src', 'cli.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export async function glasses(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const started = performance.now();
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      env: { ...process.env, GLASSES_LOG__FORMAT: 'json', ...env },
      maxBuffer: 16 * 2 ** 20,
    });
    return { code: 0, stdout, stderr, ms: performance.now() - started };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return {
      code: e.code ?? -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
      ms: performance.now() - started,
    };
  }
}

/** What `glasses selftest --json` prints. */
export type SelftestJson = SelftestReport & {
  version: string;
  arch: string;
  node: string;
  totalMs: number;
  maxRssMb: number;
};

/** The report, or undefined when the output is not one (the run crashed; its stderr says why). */
export function parseSelftest(stdout: string): SelftestJson | undefined {
  try {
    return JSON.parse(stdout) as SelftestJson;
  } catch {
    return undefined;
  }
}
