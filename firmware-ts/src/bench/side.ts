/**
 * Runs one side of a benchmark in its own child process (so its resident memory is its own): the CLI
 * again with `bench <args>`, whose last stdout line is the side's result as JSON.
 */
import { spawn } from 'node:child_process';

export function runBenchSide<T>(benchArgs: readonly string[], side: string): Promise<T> {
  const script = process.argv[1];
  if (script === undefined) throw new Error('bench: cannot find the CLI script to re-run');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, script, 'bench', ...benchArgs], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`bench: the ${side} side exited with code ${code}`));
        return;
      }
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as T);
      } catch {
        reject(new Error(`bench: the ${side} side printed no result: ${out.slice(0, 200)}`));
      }
    });
  });
}
