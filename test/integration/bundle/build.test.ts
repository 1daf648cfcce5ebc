/**
 * Real bundles of this repository for both targets: TypeScript compiled, `npm ci` from the registry
 * (the npm cache makes it quick), pruned, signed and packed. Then each is unpacked with GNU tar and
 * checked the way a board would, its native files are checked to be for the right CPU, the x64 one is
 * run, and a second x64 build (through the command) must give the same sha256. The first two builds
 * are the run's shared ones (test/helpers/shared-build.ts), which the arm64 test also uses.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildResult } from '../../../firmware-ts/src/bundle/build.js';
import { elfMachine, ELF_MACHINE } from '../../../firmware-ts/src/bundle/elf.js';
import type { BundleManifest } from '../../../firmware-ts/src/bundle/manifest.js';
import { verifyBundleDir } from '../../../firmware-ts/src/bundle/verify.js';
import { buildCommand } from '../../../firmware-ts/src/commands/build.js';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';
import { copyBundleDir, replaceFile, sharedBundle, sharedSources } from '../../helpers/shared-build.js';
import { removeTempDirs, tempDir } from '../../unit/bundle/helpers.js';

afterAll(removeTempDirs);

const ARCHES = ['x64', 'arm64'] as const;
type Arch = (typeof ARCHES)[number];
const VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

function run(
  args: string[],
  options: { stdin?: string; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GLASSES_')));
    const child = execFile(
      process.execPath,
      args,
      { cwd: options.cwd ?? tempDir(), env, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : Number(err.code ?? -1), stdout, stderr });
      },
    );
    child.stdin?.end(options.stdin ?? '');
  });
}

function walk(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const path = rel === '' ? e.name : `${rel}/${e.name}`;
    return e.isDirectory() ? walk(dir, path) : [path];
  });
}

describe('glasses build, for real, both targets', () => {
  const builds = {} as Record<Arch, BuildResult>;
  const dirs = {} as Record<Arch, string>;
  let keyDir: string;
  let publicKeyFile: string;
  let again: { sha256: string; bytes: number; file: string };
  let againSeconds: number;

  beforeAll(async () => {
    // Built from a copy of the sources taken at the run's first build (this working tree may be edited
    // while the tests run, and the determinism check needs the same sources for both builds); the
    // arm64 test uses the same arm64 bundle.
    for (const arch of ARCHES) {
      const shared = await sharedBundle(arch);
      builds[arch] = shared.build;
      dirs[arch] = shared.dir;
      keyDir = shared.sources.keyDir;
      publicKeyFile = shared.sources.publicKeyFile;
    }
    const { root } = await sharedSources();
    // The second build goes through the command, as a user runs it.
    const lines: string[] = [];
    const started = Date.now();
    const code = await buildCommand.run({
      argv: [
        '--arch',
        'x64',
        '--out',
        tempDir(),
        '--key-dir',
        keyDir,
        '--root',
        root,
        '--json',
        '--log-level',
        'warn',
      ],
      out: (l) => lines.push(l),
    });
    againSeconds = (Date.now() - started) / 1000;
    expect(code).toBe(0);
    expect(lines).toHaveLength(1);
    again = JSON.parse(lines[0]!) as typeof again;
    const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
    for (const arch of ARCHES) {
      const b = builds[arch];
      process.stderr.write(
        `bundle ${arch}: ${b.seconds.toFixed(1)} s, ${mb(b.bytes)} .tar.gz, ${mb(b.unpackedBytes)} unpacked, ` +
          `${b.files} files; node_modules ${mb(b.nodeModules.installedBytes)} installed -> ` +
          `${mb(b.nodeModules.finalBytes)} (onnxruntime other platforms -${mb(b.nodeModules.onnxruntimePrunedBytes)}, ` +
          `maps/typings -${mb(b.nodeModules.devFilesPrunedBytes)})\n`,
      );
    }
    process.stderr.write(`bundle x64 again: ${againSeconds.toFixed(1)} s, sha256 ${again.sha256}\n`);
  }, 900_000);

  it('builds the same x64 bundle twice: same sha256, same size', () => {
    // Which files differ, if any, says whether a source was edited meanwhile or the build is at fault.
    const into = tempDir();
    execFileSync('tar', ['-xzf', again.file, '-C', into, '--wildcards', '*/MANIFEST.json']);
    const [first, second] = [dirs.x64, join(into, `glasses-${VERSION}-linux-x64`)].map(
      (d) =>
        new Map(
          (JSON.parse(readFileSync(join(d, 'MANIFEST.json'), 'utf8')) as BundleManifest).files.map((f) => [
            f.path,
            `${f.sha256} ${f.mode}`,
          ]),
        ),
    );
    const differing = [...new Set([...first!.keys(), ...second!.keys()])].filter(
      (p) => first!.get(p) !== second!.get(p),
    );
    expect(differing).toEqual([]);
    expect(again.sha256).toBe(builds.x64.sha256);
    expect(again.bytes).toBe(builds.x64.bytes);
    expect(createHash('sha256').update(readFileSync(again.file)).digest('hex')).toBe(again.sha256);
  });

  describe.each(ARCHES)('the %s bundle', (arch) => {
    it('is glasses-<version>-linux-<arch>.tar.gz, all under one top folder, owner 0, mtime 0', () => {
      const b = builds[arch];
      expect(b.file.endsWith(`/glasses-${VERSION}-linux-${arch}.tar.gz`)).toBe(true);
      expect(createHash('sha256').update(readFileSync(b.file)).digest('hex')).toBe(b.sha256);
      const listing = execFileSync('tar', ['-tvzf', b.file, '--numeric-owner', '--full-time'], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      })
        .trim()
        .split('\n');
      const top = `glasses-${VERSION}-linux-${arch}/`;
      for (const line of listing)
        expect(line).toMatch(/^[-d]rw[-x]r-[-x]r-[-x] 0\/0 +\d+ 1970-01-01 00:00:00 /);
      expect(listing.every((l) => l.includes(` ${top}`))).toBe(true);
    });

    it('passes verifyBundleDir and the standalone verifier piped to node, which refuses one changed byte', async () => {
      const dir = dirs[arch];
      const pem = readFileSync(publicKeyFile, 'utf8');
      expect(await verifyBundleDir(dir, pem)).toEqual({
        ok: true,
        version: VERSION,
        arch,
        files: builds[arch].files,
      });
      // The verifier the board runs is the bundle's own compiled file, fed on stdin.
      const verifier = readFileSync(join(dir, 'dist/firmware-ts/src/bundle/verify.js'), 'utf8');
      const ok = await run(['--input-type=module', '-', dir, publicKeyFile], { stdin: verifier });
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toEqual({ ok: true, version: VERSION, arch, files: builds[arch].files });

      // The bundle is shared with other test files: the byte is changed in a copy of it.
      const copy = await copyBundleDir(dir, tempDir());
      const binding = walk(copy).find((p) => p.endsWith('/onnxruntime_binding.node'))!;
      const changed = readFileSync(join(copy, binding));
      changed[changed.length >> 1] = changed[changed.length >> 1]! ^ 0xff;
      await replaceFile(join(copy, binding), changed);
      const bad = await run(['--input-type=module', '-', copy, publicKeyFile], { stdin: verifier });
      expect(bad.code).toBe(1);
      expect(JSON.parse(bad.stdout)).toEqual({
        ok: false,
        error: `${binding} does not match its sha256 in MANIFEST.json`,
      });
    });

    it(`holds native files for ${arch} only (ELF e_machine ${ELF_MACHINE[arch]}), including onnxruntime and sharp`, async () => {
      const dir = dirs[arch];
      const files = walk(dir);
      const machines = new Map<string, number>();
      for (const f of files) {
        const m = await elfMachine(join(dir, f));
        if (m !== undefined) machines.set(f, m);
      }
      const nm = 'node_modules';
      for (const re of [
        new RegExp(`^${nm}/onnxruntime-node/bin/napi-v\\d+/linux/${arch}/onnxruntime_binding\\.node$`),
        new RegExp(`^${nm}/onnxruntime-node/bin/napi-v\\d+/linux/${arch}/libonnxruntime\\.so\\.1$`),
        new RegExp(`^${nm}/@img/sharp-linux-${arch}/lib/sharp-linux-${arch}-[\\d.]+\\.node$`),
        new RegExp(`^${nm}/@img/sharp-libvips-linux-${arch}/lib/libvips-cpp\\.so\\.[\\d.]+$`),
      ]) {
        const found = [...machines.keys()].filter((f) => re.test(f));
        expect(found, re.source).toHaveLength(1);
      }
      expect(machines.size).toBeGreaterThanOrEqual(4);
      for (const [f, m] of machines) expect([f, m]).toEqual([f, ELF_MACHINE[arch]]);
      // Other platforms pruned from onnxruntime-node, and none of sharp's other platform packages.
      expect(files.filter((f) => /onnxruntime-node\/bin\/napi-v\d+\/(darwin|win32)\//.test(f))).toEqual([]);
      expect(
        readdirSync(join(dir, nm, '@img'))
          .filter((p) => p.startsWith('sharp-'))
          .sort(),
      ).toEqual([`sharp-libvips-linux-${arch}`, `sharp-linux-${arch}`]);
      expect(builds[arch].nodeModules.onnxruntimePrunedBytes).toBeGreaterThan(100e6);
    });

    it('carries the runtime, a production package.json, the models, the samples and the systemd unit', () => {
      const dir = dirs[arch];
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      expect(pkg.name).toBe('glasses-runtime');
      expect(pkg.version).toBe(VERSION);
      expect(pkg).not.toHaveProperty('devDependencies');
      expect(pkg.scripts).toEqual({ start: 'node dist/firmware-ts/src/cli.js run' });
      expect(existsSync(join(dir, 'dist/firmware-ts/src/cli.js'))).toBe(true);
      expect(walk(join(dir, 'dist')).filter((f) => !f.endsWith('.js'))).toEqual([]); // no maps, no stale files
      // The development cloud is a tool: not in a bundle, wherever it lives in the sources.
      expect(walk(join(dir, 'dist')).filter((f) => /(^|\/)dev(-cloud)?\//.test(f))).toEqual([]);
      const models = JSON.parse(readFileSync(join(dir, 'models/manifest.json'), 'utf8')) as {
        models: { name: string; file: string; licence: string }[];
      };
      for (const m of models.models) expect(existsSync(join(dir, 'models', m.file)), m.file).toBe(true);
      // openWakeWord's pretrained heads are for non-commercial use: a production bundle leaves them out.
      expect(models.models.map((m) => m.licence)).not.toContain('CC-BY-NC-SA-4.0');
      expect(builds[arch].leftOutModels.sort()).toEqual([
        'alexa',
        'hey_jarvis',
        'hey_mycroft',
        'hey_rhasspy',
      ]);
      expect(existsSync(join(dir, 'models/hey_jarvis_v0.1.onnx'))).toBe(false);
      expect(models.models.map((m) => m.name)).toContain('hey_quark');
      expect(existsSync(join(dir, 'firmware-ts/assets/samples/hey_quark.wav'))).toBe(true);
      const unit = readFileSync(join(dir, 'firmware-ts/assets/board/glasses.service'), 'utf8');
      expect(unit).toMatch(
        /^ExecStart=\/usr\/bin\/node \/opt\/glasses\/current\/dist\/firmware-ts\/src\/cli\.js run --service$/m,
      );
      for (const absent of [
        'node_modules/.package-lock.json',
        'node_modules/.bin',
        'node_modules/typescript',
        'node_modules/vitest',
        'node_modules/@tensorflow/tfjs-node',
        'package-lock.json',
        '.npmrc',
      ])
        expect(existsSync(join(dir, absent)), absent).toBe(false);
    });
  });

  it('the x64 bundle has no development cloud: the demo and `glasses dev-cloud` say so with E_DEV_CLOUD_ABSENT', async () => {
    const cli = join(dirs.x64, 'dist/firmware-ts/src/cli.js');
    for (const args of [
      ['run', '--log-level', 'warn'],
      ['dev-cloud', '--port', '0'],
    ]) {
      const r = await run([cli, ...args]);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr, args[0]).toMatch(
        /^glasses [a-z-]+: E_DEV_CLOUD_ABSENT: .* needs the development cloud/,
      );
    }
  });

  it('the x64 bundle runs on its own: the wake word in a bundled sample is found', async () => {
    const dir = dirs.x64;
    const sample = join(dir, 'firmware-ts/assets/samples/hey_quark.wav');
    const r = await run([join(dir, 'dist/firmware-ts/src/cli.js'), 'wake', '--log-level', 'warn', sample]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const hits = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { phrase: string; file: string });
    expect(hits.map((h) => h.phrase)).toContain('hey_quark');
  });
});
