/** Where the package's own files are, whether run from source, from dist/, or from an installed bundle. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This package's name (package.json). */
export const PACKAGE_NAME = 'glasses-runtime';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const json = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown };
      if (json.name === PACKAGE_NAME) return dir;
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export const PACKAGE_ROOT = findRoot();

const packageJson = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  version?: unknown;
  license?: unknown;
};

/** The runtime's version, from its package.json (what a build, a flash and the health report name). */
export const PACKAGE_VERSION = String(packageJson.version);

/** This package's licence (package.json `license`), which our own trained models carry. */
export const PACKAGE_LICENCE =
  typeof packageJson.license === 'string' && packageJson.license !== '' ? packageJson.license : 'UNLICENSED';

/** Resolves a config path: absolute as is, relative from the package root. */
export function fromRoot(path: string): string {
  return resolve(PACKAGE_ROOT, path);
}

/**
 * Where `glasses build` writes bundles and `glasses flash` looks for one: a folder of its own, so
 * cleaning bundles never removes the compiled runtime in dist/.
 */
export const BUNDLES_DIR = join(PACKAGE_ROOT, 'bundles');

export const SAMPLES_DIR = join(PACKAGE_ROOT, 'firmware-ts', 'assets', 'samples');
