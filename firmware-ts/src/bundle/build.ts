/**
 * `glasses build`: a signed, deterministic bundle of the runtime for one board architecture.
 *
 * The JavaScript is compiled from source into the staging folder (not copied from dist/), so a bundle
 * never carries a stale or deleted module and fails when the sources do not type-check. Then come the
 * production node_modules for the target (stage.ts), firmware-ts/assets (selftest samples and the
 * systemd unit), the models checked against their manifest, a package.json without dev tooling, and
 * the signed MANIFEST.json. Everything sits under one top folder `glasses-<version>-linux-<arch>/`.
 */
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GlassesError } from '../errors.js';
import type { Log } from '../log.js';
import { loadConfig } from '../config.js';
import {
  loadManifest,
  MANIFEST_FILE,
  verifiedModelPath,
  writeManifest,
  type ModelEntry,
} from '../models/manifest.js';
import { PACKAGE_ROOT } from '../paths.js';

import { loadOrCreateKeyPair, writeSignedManifest } from './manifest.js';
import { packBundle } from './pack.js';
import {
  bundlePackageJson,
  mb,
  runTool,
  stageNodeModules,
  treeBytes,
  type PackageJson,
  type StagedModules,
} from './stage.js';
import { BUNDLE_NAME, type BundleArch } from './verify.js';

export interface BuildOptions {
  arch: BundleArch;
  /** Where the .tar.gz goes; `bundles` under the package root by default. */
  outDir?: string;
  /** Signing keys, made on first use; `.keys` under the package root by default. */
  keyDir?: string;
  log?: Log;
  /** The source checkout to build (after `npm ci`); the package root by default. */
  root?: string;
  /**
   * Also carry models whose licence forbids commercial use (openWakeWord's pretrained heads), for
   * development boards. Off by default: a production bundle has only models it may ship.
   */
  nonCommercial?: boolean;
}

export interface BuildResult {
  file: string;
  sha256: string;
  version: string;
  arch: string;
  /** Files listed in MANIFEST.json. */
  files: number;
  /** Models in the bundle, and those left out for their non-commercial licence. */
  models: string[];
  leftOutModels: string[];
  /** Size of the .tar.gz. */
  bytes: number;
  /** Size of the unpacked bundle, and node_modules before and after pruning. */
  unpackedBytes: number;
  nodeModules: StagedModules;
  seconds: number;
}

export const ARCHES: readonly BundleArch[] = ['arm64', 'x64'];

export function bundleTopName(version: string, arch: BundleArch): string {
  return `glasses-${version}-linux-${arch}`;
}

async function copyTree(from: string, to: string): Promise<void> {
  await fs.cp(from, to, { recursive: true, dereference: false, errorOnExist: true, force: false });
}

function tscOf(root: string): string {
  return join(root, 'node_modules', 'typescript', 'bin', 'tsc');
}

/** A bundle is built from a checkout after `npm ci`; an installed bundle has neither file. */
async function readCheckout(root: string): Promise<PackageJson> {
  const needed = [join(root, 'package.json'), join(root, 'package-lock.json'), tscOf(root)];
  const missing = needed.filter((f) => !existsSync(f));
  if (missing.length > 0)
    throw new GlassesError(
      'E_BUNDLE_BUILD',
      `${root} is not a source checkout with its dev dependencies (missing ${missing.join(', ')}); build where \`npm ci\` has run`,
      { details: { file: missing[0] } },
    );
  const pkg = JSON.parse(await fs.readFile(join(root, 'package.json'), 'utf8')) as PackageJson;
  if (pkg.name !== BUNDLE_NAME || typeof pkg.version !== 'string')
    throw new GlassesError('E_BUNDLE_BUILD', `${root}/package.json is not ${BUNDLE_NAME} with a version`);
  return pkg;
}

/** Development tools the runtime loads only on a dev machine (compose/dev-cloud.ts), never bundled. */
export const DEV_TOOLS_DIR = 'firmware-ts/dev';

async function compile(root: string, outDir: string): Promise<void> {
  const tsc = tscOf(root);
  // tsconfig.bundle.json is the runtime without DEV_TOOLS_DIR. Source maps stay out: their sources
  // are not in the bundle, and a board prints plain JS lines.
  const args = [tsc, '-p', join(root, 'tsconfig.bundle.json'), '--outDir', outDir, '--sourceMap', 'false'];
  await runTool(process.execPath, args, root, { what: 'the TypeScript compiler (tsc)' });
  // A static import of a tool from the runtime would pull it back in through tsc.
  if (existsSync(join(outDir, DEV_TOOLS_DIR)))
    throw new GlassesError(
      'E_BUNDLE_BUILD',
      `the runtime imports ${DEV_TOOLS_DIR} statically, so tsc compiled it into the bundle; load it through firmware-ts/src/compose/ instead`,
      { details: { file: join(outDir, DEV_TOOLS_DIR) } },
    );
}

/** A licence that forbids commercial use (Creative Commons NC), e.g. openWakeWord's pretrained heads. */
export function isNonCommercial(entry: Pick<ModelEntry, 'licence'>): boolean {
  return /(^|-)NC(-|$)/i.test(entry.licence);
}

/**
 * Copies the models and a manifest of them, each file checked against its sha256 and size first
 * (a missing or stale model fails the build with E_MODEL_* and "run npm run models"). Models under a
 * non-commercial licence stay out unless asked for; a bundle whose default wake phrase would be one
 * of them is refused, since it could not start.
 */
async function stageModels(
  root: string,
  to: string,
  nonCommercial: boolean,
): Promise<{ models: string[]; leftOut: string[] }> {
  const from = join(root, 'models');
  const manifest = await loadManifest(from);
  const kept = manifest.models.filter((m) => nonCommercial || !isNonCommercial(m));
  const leftOut = manifest.models.filter((m) => !kept.includes(m)).map((m) => m.name);
  const missing = loadConfig({ env: {} }).wake.phrases.filter((p) => !kept.some((m) => m.name === p));
  if (missing.length > 0) {
    const why = (p: string): string =>
      leftOut.includes(p)
        ? `${p} is a model the bundle may not carry (non-commercial licence); build with --non-commercial-models for a development board`
        : `${p} has no model in ${join(from, MANIFEST_FILE)}`;
    throw new GlassesError('E_BUNDLE_BUILD', `the default wake phrase ${missing.map(why).join('; ')}`, {
      details: { models: missing },
    });
  }
  await fs.mkdir(to, { recursive: true });
  await writeManifest(to, kept);
  for (const m of kept) {
    const source = await verifiedModelPath(from, m);
    await fs.mkdir(dirname(join(to, m.file)), { recursive: true });
    await fs.copyFile(source, join(to, m.file));
  }
  // The licences and sources of the models are in the README; their licences ask it to travel with them.
  await fs.copyFile(join(from, 'README.md'), join(to, 'README.md')).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  });
  return { models: kept.map((m) => m.name), leftOut };
}

export async function buildBundle(options: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const { arch, log } = options;
  // Checked again at run time: JavaScript callers (the flash tool, scripts) are not type-checked.
  if (!(ARCHES as readonly string[]).includes(arch))
    throw new GlassesError('E_BUNDLE_BUILD', `unknown arch "${arch}": arm64 or x64`);
  const root = options.root ?? PACKAGE_ROOT;
  const outDir = options.outDir ?? join(root, 'bundles');
  const pkg = await readCheckout(root);
  const top = bundleTopName(pkg.version, arch);
  const keys = await loadOrCreateKeyPair(options.keyDir ?? join(root, '.keys'));

  const staging = await fs.mkdtemp(join(tmpdir(), 'glasses-build-'));
  try {
    const bundle = join(staging, top);
    await fs.mkdir(bundle);

    // First the cheap checks: a stale model fails the build before a minute of compiling and npm.
    log?.info({ step: 'assets' }, 'copying assets and checking models against models/manifest.json');
    await copyTree(join(root, 'firmware-ts', 'assets'), join(bundle, 'firmware-ts', 'assets'));
    const { models, leftOut } = await stageModels(
      root,
      join(bundle, 'models'),
      options.nonCommercial === true,
    );
    if (leftOut.length > 0)
      log?.info(
        { leftOut },
        'left out models under a non-commercial licence (--non-commercial-models adds them)',
      );

    log?.info({ step: 'compile' }, 'compiling TypeScript and installing node_modules');
    // tsc is CPU-bound and npm ci mostly waits on disk and network: side by side they save ~15 s.
    // allSettled, not all: the staging folder must not be removed while the other one still writes.
    const [compiled, staged] = await Promise.allSettled([
      compile(root, join(bundle, 'dist')),
      stageNodeModules(root, join(staging, 'install'), arch, log),
    ]);
    if (compiled.status === 'rejected') throw compiled.reason;
    if (staged.status === 'rejected') throw staged.reason;
    const nodeModules = staged.value;
    await fs.rename(join(staging, 'install', 'node_modules'), join(bundle, 'node_modules'));

    await fs.writeFile(join(bundle, 'package.json'), `${JSON.stringify(bundlePackageJson(pkg), null, 2)}\n`);

    log?.info({ step: 'hash' }, 'hashing and signing');
    const manifest = await writeSignedManifest(bundle, { version: pkg.version, arch }, keys.privateKeyPem);
    const unpackedBytes = await treeBytes(bundle);

    log?.info(
      { step: 'pack', files: manifest.files.length, models: models.length, mb: mb(unpackedBytes) },
      'packing',
    );
    const packed = await packBundle(bundle, top, join(outDir, `${top}.tar.gz`));
    return {
      file: packed.file,
      sha256: packed.sha256,
      version: pkg.version,
      arch,
      files: manifest.files.length,
      models,
      leftOutModels: leftOut,
      bytes: packed.bytes,
      unpackedBytes,
      nodeModules,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}
