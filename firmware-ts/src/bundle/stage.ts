/**
 * The production node_modules of a bundle, installed for the target rather than for this machine:
 * `npm ci --cpu --os --libc` with the repo's lockfile (and .npmrc, if there is one) picks the target's optional platform
 * packages (sharp's @img/*), then what the target never loads is pruned.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Log } from '../log.js';
import { elfMachine, ELF_MACHINE } from './elf.js';

import type { BundleArch } from './verify.js';
import { GlassesError } from '../errors.js';

/**
 * Left out of bundles. tfjs-node builds or downloads libtensorflow in an install script (skipped for a
 * cross install, and there is no linux-arm64 build of it); without its binding it is 290 MB that
 * cannot load, and the vision code falls back to the wasm backend, which is what runs on the board.
 */
export const NOT_BUNDLED = ['@tensorflow/tfjs-node'] as const;

/** Never loaded by `node`: source maps, type declarations and TypeScript sources. */
const DEV_ONLY_FILE = /\.(map|d\.ts|d\.mts|d\.cts|ts|mts|cts)$/;

export interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [key: string]: unknown;
}

function withoutNotBundled(pkg: PackageJson): PackageJson {
  const optional = { ...pkg.optionalDependencies };
  const deps = { ...pkg.dependencies };
  for (const name of NOT_BUNDLED) {
    Reflect.deleteProperty(optional, name);
    Reflect.deleteProperty(deps, name);
  }
  const out: PackageJson = { ...pkg, dependencies: deps };
  if (Object.keys(optional).length > 0) out.optionalDependencies = optional;
  else delete out.optionalDependencies;
  return out;
}

/**
 * The package.json shipped in a bundle: same name (paths.ts finds the package root by it), version,
 * type and bin; no dev dependencies and no scripts that need dev tools.
 */
export function bundlePackageJson(pkg: PackageJson): PackageJson {
  const kept = withoutNotBundled(pkg);
  const out: PackageJson = { name: pkg.name, version: pkg.version };
  for (const key of ['description', 'type', 'private', 'license', 'engines', 'bin'] as const)
    if (kept[key] !== undefined) out[key] = kept[key];
  out.scripts = { start: 'node dist/firmware-ts/src/cli.js run' };
  out.dependencies = kept.dependencies;
  if (kept.optionalDependencies !== undefined) out.optionalDependencies = kept.optionalDependencies;
  return out;
}

/**
 * Runs a tool to its end, keeping the tail of its output for the error; `what` names it in errors
 * (default: the command line).
 */
export function runTool(
  cmd: string,
  args: string[],
  cwd: string,
  options: { log?: Log | undefined; what?: string } = {},
): Promise<void> {
  const { log } = options;
  const what = options.what ?? `${cmd} ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => {
      reject(new GlassesError('E_BUNDLE_BUILD', `${what} cannot start (${err.message})`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      if (code === 0) {
        log?.debug({ cmd, output: output.slice(-2000) }, 'done');
        resolve();
      } else
        reject(
          new GlassesError(
            'E_BUNDLE_BUILD',
            `${what} failed in ${cwd} (${signal ?? `exit ${code}`}):\n${output.trim()}`,
          ),
        );
    });
  });
}

/** Total size of the regular files under `dir`. */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await treeBytes(path);
    else if (entry.isFile()) total += (await fs.stat(path)).size;
  }
  return total;
}

/** Removes files matching `re` under `dir`; returns the bytes removed. */
async function removeFiles(dir: string, re: RegExp): Promise<number> {
  let removed = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) removed += await removeFiles(path, re);
    else if (entry.isFile() && re.test(entry.name)) {
      removed += (await fs.stat(path)).size;
      await fs.rm(path);
    }
  }
  return removed;
}

/** onnxruntime-node ships every platform in one package; keep bin/napi-v*\/linux/<arch> only. */
async function pruneOnnxruntime(nodeModules: string, arch: BundleArch): Promise<number> {
  const bin = join(nodeModules, 'onnxruntime-node', 'bin');
  let removed = 0;
  for (const napi of await fs.readdir(bin)) {
    for (const platform of await fs.readdir(join(bin, napi))) {
      for (const cpu of await fs.readdir(join(bin, napi, platform))) {
        if (platform === 'linux' && cpu === arch) continue;
        const dir = join(bin, napi, platform, cpu);
        removed += await treeBytes(dir);
        await fs.rm(dir, { recursive: true });
      }
      if ((await fs.readdir(join(bin, napi, platform))).length === 0)
        await fs.rm(join(bin, napi, platform), { recursive: true });
    }
  }
  return removed;
}

/** Every ELF file under `dir` whose machine is not `arch`'s, as paths relative to `dir`. */
export async function foreignBinaries(dir: string, arch: BundleArch, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(join(dir, rel), { withFileTypes: true })) {
    const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await foreignBinaries(dir, arch, path)));
    else if (entry.isFile()) {
      const machine = await elfMachine(join(dir, path));
      if (machine !== undefined && machine !== ELF_MACHINE[arch]) out.push(path);
    }
  }
  return out;
}

/** The native files the runtime loads on the board; a missing one means npm picked the wrong platform. */
export function requiredNativeFiles(arch: BundleArch): RegExp[] {
  return [
    new RegExp(`^onnxruntime-node/bin/napi-v\\d+/linux/${arch}/onnxruntime_binding\\.node$`),
    new RegExp(`^onnxruntime-node/bin/napi-v\\d+/linux/${arch}/libonnxruntime\\.so\\.\\d+$`),
    new RegExp(`^@img/sharp-linux-${arch}/lib/sharp-linux-${arch}-[\\d.]+\\.node$`),
    new RegExp(`^@img/sharp-libvips-linux-${arch}/lib/libvips-cpp\\.so\\.[\\d.]+$`),
  ];
}

async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(join(dir, rel), { withFileTypes: true })) {
    const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, path)));
    else out.push(path);
  }
  return out;
}

export interface StagedModules {
  /** node_modules as npm installed it, then after each prune. */
  installedBytes: number;
  onnxruntimePrunedBytes: number;
  devFilesPrunedBytes: number;
  finalBytes: number;
}

/**
 * Installs the production dependencies of `root` for linux/`arch` into `installDir`, prunes them and
 * checks the target's native files are there and no other machine's are.
 */
export async function stageNodeModules(
  root: string,
  installDir: string,
  arch: BundleArch,
  log?: Log,
): Promise<StagedModules> {
  await fs.mkdir(installDir, { recursive: true });
  const pkg = JSON.parse(await fs.readFile(join(root, 'package.json'), 'utf8')) as PackageJson;
  const lock = JSON.parse(await fs.readFile(join(root, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, PackageJson>;
  };
  // npm ci insists that package.json and the lockfile's root agree, so both drop NOT_BUNDLED; the
  // packages only it needs are then extraneous in the lock and npm does not install them.
  const lockRoot = lock.packages?.[''];
  if (lockRoot === undefined)
    throw new GlassesError('E_BUNDLE_BUILD', `${root}/package-lock.json has no root package`);
  lock.packages = { ...lock.packages, '': withoutNotBundled(lockRoot) };
  await fs.writeFile(join(installDir, 'package.json'), JSON.stringify(withoutNotBundled(pkg), null, 2));
  await fs.writeFile(join(installDir, 'package-lock.json'), JSON.stringify(lock, null, 2));
  await fs.copyFile(join(root, '.npmrc'), join(installDir, '.npmrc')).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  });

  log?.info({ arch, dir: installDir }, 'installing production node_modules for linux-%s', arch);
  const started = Date.now();
  // --ignore-scripts: install scripts would run host binaries for the wrong target (onnxruntime-node's
  // only fetches CUDA files for linux-x64); --no-bin-links: no .bin symlinks, bundles hold files only.
  await runTool(
    'npm',
    [
      'ci',
      '--omit=dev',
      `--cpu=${arch}`,
      '--os=linux',
      '--libc=glibc',
      '--ignore-scripts',
      '--no-bin-links',
      '--no-audit',
      '--no-fund',
      '--no-update-notifier',
      '--loglevel=error',
    ],
    installDir,
    { log },
  );
  const nodeModules = join(installDir, 'node_modules');
  // npm's hidden lockfile is a cache of the tree; nothing reads it at run time.
  await fs.rm(join(nodeModules, '.package-lock.json'), { force: true });
  const installedBytes = await treeBytes(nodeModules);
  log?.info({ seconds: (Date.now() - started) / 1000, mb: mb(installedBytes) }, 'installed');

  log?.info('pruning other platforms from onnxruntime-node, source maps and type declarations');
  const onnxruntimePrunedBytes = await pruneOnnxruntime(nodeModules, arch);
  const devFilesPrunedBytes = await removeFiles(nodeModules, DEV_ONLY_FILE);
  const finalBytes = await treeBytes(nodeModules);
  log?.info(
    { onnxruntimeMb: mb(onnxruntimePrunedBytes), devFilesMb: mb(devFilesPrunedBytes), mb: mb(finalBytes) },
    'pruned',
  );

  const files = await listFiles(nodeModules);
  for (const re of requiredNativeFiles(arch))
    if (!files.some((f) => re.test(f)))
      throw new GlassesError(
        'E_BUNDLE_BUILD',
        `no file matching ${re.source} in ${nodeModules} for linux-${arch}`,
      );
  const foreign = await foreignBinaries(nodeModules, arch);
  if (foreign.length > 0)
    throw new GlassesError(
      'E_BUNDLE_BUILD',
      `native files for another machine than ${arch} in ${nodeModules}: ${foreign.slice(0, 5).join(', ')}`,
    );
  return { installedBytes, onnxruntimePrunedBytes, devFilesPrunedBytes, finalBytes };
}

export function mb(bytes: number): number {
  return Math.round(bytes / 1e5) / 10;
}
