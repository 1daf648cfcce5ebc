/**
 * Every Debian package the code or the tests tell someone to install (`apt-get install X` in an
 * error, a fix or a comment) is one scripts/setup.sh installs: a fresh machine once failed the tests'
 * global set-up because fonts-wqy-zenhei was named in a hint but missing from setup.sh.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOOLS } from '../../firmware-ts/src/board/doctor.js';
import { PACKAGE_ROOT } from '../../firmware-ts/src/paths.js';

const SELF = relative(PACKAGE_ROOT, new URL(import.meta.url).pathname);
const SETUP = 'scripts/setup.sh';
const SCANNED = ['firmware-ts', 'scripts', 'test'];
const SKIPPED_DIRS = new Set(['node_modules', 'generated', 'dist']);
const EXTENSIONS = /\.(ts|js|mjs|cjs|sh|json|service)$/;
/** A Debian package name, with an optional architecture (libc6:arm64). */
const PACKAGE = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9]+)?$/;

/** The packages in setup.sh's APT_PACKAGES array, comments left out. */
function setupPackages(script: string): Set<string> {
  const body = /^APT_PACKAGES=\(\n([\s\S]*?)^\)/m.exec(script)?.[1];
  if (body === undefined) throw new Error(`${SETUP}: no APT_PACKAGES=( ... ) array`);
  return new Set(
    body
      .split('\n')
      .map((line) => line.replace(/#.*/, ''))
      .flatMap((line) => line.split(/\s+/))
      .filter((word) => word !== ''),
  );
}

/** The packages each `apt-get install` / `apt install` in `text` names (options skipped). */
function installHints(text: string): { packages: string[]; dynamic: string[] } {
  const packages: string[] = [];
  const dynamic: string[] = [];
  for (const m of text.matchAll(/\bapt(?:-get)? install\b([^\n`'"|;&)]*)/g)) {
    for (const word of (m[1] ?? '').trim().split(/\s+/)) {
      if (word === '' || word.startsWith('-')) continue;
      if (word.includes('${') || word.includes('"$')) dynamic.push(word);
      else if (PACKAGE.test(word)) packages.push(word);
      // Prose after the names ("(scripts/setup.sh does)") ends them.
      else break;
    }
  }
  return { packages, dynamic };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(PACKAGE_ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return SKIPPED_DIRS.has(e.name) || e.name.startsWith('.') ? [] : sourceFiles(path);
    return e.isFile() && EXTENSIONS.test(e.name) ? [path] : [];
  });
}

describe('install hints and scripts/setup.sh', () => {
  const installed = setupPackages(readFileSync(join(PACKAGE_ROOT, SETUP), 'utf8'));

  it('reads the hints and the package list as a person would', () => {
    expect(
      installHints('missing; apt-get install -y fonts-noto-cjk libc6:arm64 (scripts/setup.sh does)'),
    ).toEqual({
      packages: ['fonts-noto-cjk', 'libc6:arm64'],
      dynamic: [],
    });
    expect(installHints('`sudo apt-get install ${tool.pkg}`').dynamic).toEqual(['${tool.pkg}']);
    expect(setupPackages('APT_PACKAGES=(\n  sox  # audio\n  a b\n)\n')).toEqual(new Set(['sox', 'a', 'b']));
    expect(installed.has('espeak-ng')).toBe(true);
  });

  it('names no package setup.sh does not install', () => {
    const gaps: string[] = [];
    const dynamicOutsideDoctor: string[] = [];
    for (const file of SCANNED.flatMap(sourceFiles)) {
      if (file === SETUP || file === SELF) continue;
      const { packages, dynamic } = installHints(readFileSync(join(PACKAGE_ROOT, file), 'utf8'));
      for (const p of packages) if (!installed.has(p)) gaps.push(`${file}: ${p}`);
      // doctor's `apt-get install ${tool.pkg}` is checked through TOOLS below; any other computed
      // hint would be unseen here.
      if (dynamic.length > 0 && file !== 'firmware-ts/src/board/doctor.ts')
        dynamicOutsideDoctor.push(`${file}: ${dynamic.join(' ')}`);
    }
    for (const tool of TOOLS)
      for (const p of tool.pkg.split(' '))
        if (!installed.has(p)) gaps.push(`doctor TOOLS ${tool.name}: ${p}`);
    expect(gaps).toEqual([]);
    expect(dynamicOutsideDoctor).toEqual([]);
  });
});
