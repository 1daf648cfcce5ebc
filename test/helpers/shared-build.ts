/**
 * Real bundles shared by the test files of one vitest run. A bundle costs a TypeScript compile, an
 * `npm ci`, pruning and packing (a minute or more on two busy cores), and the bundle test and the
 * arm64 test both need the arm64 one: it is built once per run, by whichever file asks first, into
 * the run's private folder (test/global-setup.ts makes it 0700 and removes it), keyed by the hash of
 * the sources it is built from, so an edit during the run gives a new build rather than a stale one.
 *
 * Files run in separate processes: the first to ask takes the entry by creating its folder
 * (mkdir is atomic); the others wait for its done.json. A shared bundle is read-only: a test that
 * changes a file in it works on its own copy (copyBundleDir).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { buildBundle, bundleTopName, type BuildResult } from '../../firmware-ts/src/bundle/build.js';
import { loadOrCreateKeyPair } from '../../firmware-ts/src/bundle/manifest.js';
import type { BundleArch } from '../../firmware-ts/src/bundle/verify.js';
import { PACKAGE_ROOT } from '../../firmware-ts/src/paths.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's private folder for shared builds (0700, removed at the end of the run). */
    sharedBuildDir: string;
  }
}

/** What a build reads from a checkout. */
const SOURCES = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'tsconfig.bundle.json',
  'firmware-ts',
  'models',
];

const run = promisify(execFile);

async function filesUnder(root: string, rel: string): Promise<string[]> {
  const stat = await fs.lstat(join(root, rel));
  if (!stat.isDirectory()) return [rel];
  const names = (await fs.readdir(join(root, rel))).sort();
  return (await Promise.all(names.map((n) => filesUnder(root, `${rel}/${n}`)))).flat();
}

/** sha256 over the paths, modes and bytes of what a build reads. */
async function sourcesHash(root: string): Promise<string> {
  const hash = createHash('sha256');
  for (const top of SOURCES) {
    for (const rel of await filesUnder(root, top)) {
      const file = join(root, rel);
      const stat = await fs.lstat(file);
      hash.update(`${rel}\0${stat.mode}\0`);
      hash.update(stat.isSymbolicLink() ? await fs.readlink(file) : await fs.readFile(file));
      hash.update('\0');
    }
  }
  return hash.digest('hex').slice(0, 16);
}

function sharedDir(): string {
  const dir = inject('sharedBuildDir');
  if (typeof dir !== 'string' || dir === '')
    throw new Error('no shared build folder: vitest.config.ts runs test/global-setup.ts, which provides it');
  return dir;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `make(dir)` once per run for `key`, whichever process asks first; everyone gets `dir` when it is
 * done. A maker that fails leaves its error for the others, so they fail with it instead of waiting.
 */
async function once(key: string, make: (dir: string) => Promise<void>, timeoutMs: number): Promise<string> {
  const dir = join(sharedDir(), key);
  const done = join(dir, 'done.json');
  let mine = true;
  try {
    await fs.mkdir(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    mine = false;
  }
  if (mine) {
    await fs.writeFile(join(dir, 'owner'), String(process.pid), { flag: 'wx', mode: 0o600 });
    try {
      await make(dir);
      await fs.writeFile(done, JSON.stringify({ ok: true }), { flag: 'wx', mode: 0o600 });
    } catch (err) {
      await fs.writeFile(done, JSON.stringify({ ok: false, error: String(err) }), {
        flag: 'wx',
        mode: 0o600,
      });
      throw err;
    }
    return dir;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(done)) {
      const status = JSON.parse(await fs.readFile(done, 'utf8')) as { ok: boolean; error?: string };
      if (!status.ok) throw new Error(`the shared ${key} failed in another test file: ${status.error ?? ''}`);
      return dir;
    }
    const owner = Number(await fs.readFile(join(dir, 'owner'), 'utf8').catch(() => '0'));
    if (owner > 0 && !alive(owner)) throw new Error(`the process building the shared ${key} (${owner}) died`);
    if (Date.now() > deadline) throw new Error(`the shared ${key} was not ready within ${timeoutMs} ms`);
    await sleep(500);
  }
}

export interface SharedSources {
  /** A copy of the checkout's build inputs, node_modules linked: fixed for the run whatever is edited. */
  root: string;
  hash: string;
  /** The signing keys every shared bundle of these sources is signed with. */
  keyDir: string;
  publicKeyFile: string;
}

/** The checkout's build inputs as they are now, copied once per run (per content). */
export async function sharedSources(): Promise<SharedSources> {
  const hash = await sourcesHash(PACKAGE_ROOT);
  const dir = await once(
    `sources-${hash}`,
    async (d) => {
      for (const p of SOURCES)
        await fs.cp(join(PACKAGE_ROOT, p), join(d, 'src', p), { recursive: true, verbatimSymlinks: true });
      await fs.symlink(join(PACKAGE_ROOT, 'node_modules'), join(d, 'src', 'node_modules'));
      await loadOrCreateKeyPair(join(d, 'keys'));
    },
    120_000,
  );
  const keys = await loadOrCreateKeyPair(join(dir, 'keys'));
  return { root: join(dir, 'src'), hash, keyDir: join(dir, 'keys'), publicKeyFile: keys.publicKeyFile };
}

export interface SharedBundle {
  build: BuildResult;
  /** The bundle unpacked with GNU tar: glasses-<version>-linux-<arch>/. Read-only; see copyBundleDir. */
  dir: string;
  sources: SharedSources;
}

/** The real bundle for `arch` from the shared sources, built and unpacked once per run. */
export async function sharedBundle(arch: BundleArch): Promise<SharedBundle> {
  const sources = await sharedSources();
  const dir = await once(
    `bundle-${arch}-${sources.hash}`,
    async (d) => {
      const build = await buildBundle({
        arch,
        outDir: join(d, 'out'),
        keyDir: sources.keyDir,
        root: sources.root,
      });
      await fs.mkdir(join(d, 'unpacked'));
      await run('tar', ['-xzf', build.file, '-C', join(d, 'unpacked')]);
      await fs.writeFile(join(d, 'build.json'), JSON.stringify({ ...build, file: relative(d, build.file) }), {
        flag: 'wx',
        mode: 0o600,
      });
    },
    // Another file's build: compile, npm ci and pack on a busy machine.
    15 * 60_000,
  );
  const saved = JSON.parse(await fs.readFile(join(dir, 'build.json'), 'utf8')) as BuildResult;
  const build = { ...saved, file: join(dir, saved.file) };
  return { build, dir: join(dir, 'unpacked', bundleTopName(build.version, arch)), sources };
}

/**
 * A copy of an unpacked bundle that a test may change: hard links (instant, no space), so a changed
 * file must be replaced, not written in place; replaceFile does that.
 */
export async function copyBundleDir(from: string, into: string): Promise<string> {
  const to = join(into, 'bundle');
  await run('cp', ['-al', from, to]);
  return to;
}

/** Writes `bytes` to a new file at `file`, so the shared bundle it was linked from is untouched. */
export async function replaceFile(file: string, bytes: Uint8Array): Promise<void> {
  const mode = (await fs.stat(file)).mode & 0o777;
  await fs.rm(file);
  await fs.writeFile(file, bytes, { flag: 'wx', mode });
}
