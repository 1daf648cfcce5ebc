/** Small bundle trees for the bundle tests. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const made: string[] = [];

/** A fresh folder under the OS temp dir, removed by removeTempDirs (bundles are hundreds of MB). */
export function tempDir(prefix = 'glasses-bundle-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A bundle-like folder: a JS file, an executable, nested folders, a long (>100 byte) unicode path. */
export function makeTree(root: string): { longPath: string } {
  const longPath = `node_modules/${'a'.repeat(60)}/${'b'.repeat(40)}/naïve-ünïcode/index.js`;
  const files: Record<string, string> = {
    'dist/firmware-ts/src/cli.js': 'console.log("hi");\n',
    'models/manifest.json': '{"models":[]}\n',
    'bin/run.sh': '#!/bin/sh\necho run\n',
    'empty.txt': '',
    [longPath]: 'export const x = 1;\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    const file = join(root, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  chmodSync(join(root, 'bin/run.sh'), 0o755);
  return { longPath };
}
