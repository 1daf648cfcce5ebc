/**
 * Boards and bundles for the flash tests. A "board" is a temp folder used as the install root, on
 * the test's own sshd; its "service" is service.sh, a stand-in for `systemctl restart glasses` that
 * stops the runtime (by pid file) and starts `node <root>/current/runtime.mjs` again. The runtime is
 * a few lines in each bundle that read their config with the runtime's own loader (config.ts, bundled
 * into the rig folder: unknown GLASSES_* variables are refused as `glasses run` refuses them) and write
 * the health report every 100 ms: healthy, or not when the bundle holds a FAIL_HEALTH marker. Bundles
 * are signed and packed with the real bundle code.
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import {
  loadOrCreateKeyPair,
  writeSignedManifest,
  type KeyPair,
} from '../../../firmware-ts/src/bundle/manifest.js';
import { packBundle } from '../../../firmware-ts/src/bundle/pack.js';
import type { BundleArch } from '../../../firmware-ts/src/bundle/verify.js';
import type { Board } from '../../../firmware-ts/src/flash/board.js';
import { readLocalBundle, type LocalBundle } from '../../../firmware-ts/src/flash/bundle-file.js';
import {
  flashBoard,
  type BoardFlashResult,
  type FlashProgress,
} from '../../../firmware-ts/src/flash/flash-board.js';
import type { ProvisionPlan } from '../../../firmware-ts/src/flash/provision.js';
import { ShellBoard } from '../../../firmware-ts/src/flash/shell-board.js';
import { SshShell } from '../../../firmware-ts/src/flash/ssh.js';
import { parseBoardTarget } from '../../../firmware-ts/src/flash/target.js';
import { startSshd, type SshServer } from '../../helpers/sshd.js';

export const ARCH: BundleArch = process.arch === 'arm64' ? 'arm64' : 'x64';

const runtime = (
  configModule: string,
): string => `import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from ${JSON.stringify(pathToFileURL(configModule).href)};
const here = dirname(fileURLToPath(import.meta.url));
const { version } = JSON.parse(readFileSync(join(here, 'MANIFEST.json'), 'utf8'));
const failing = existsSync(join(here, 'FAIL_HEALTH'));
// As \`glasses run\` does first: an environment it does not accept stops it here, with the error.
const file = loadConfig().health.file;
const startedAtMs = Date.now();
const write = () => {
  const report = { version, pid: process.pid, startedAtMs, atMs: Date.now(), modelsLoaded: true,
    micOpen: !failing, loopRunning: true, ok: !failing, problems: failing ? ['mic: no capture device (test)'] : [] };
  writeFileSync(file + '.tmp', JSON.stringify(report));
  renameSync(file + '.tmp', file);
};
// Models take a moment to load on a real board.
setTimeout(() => { write(); setInterval(write, 100); }, 150);
process.on('SIGTERM', () => process.exit(0));
`;

const configModules = new Map<string, Promise<string>>();

/** config.ts with zod and errors.ts in one ESM file under `dir`, made once per test folder. */
function configModule(dir: string): Promise<string> {
  let made = configModules.get(dir);
  if (made === undefined) {
    const outfile = join(dir, 'config.mjs');
    made = build({
      entryPoints: [fileURLToPath(new URL('../../../firmware-ts/src/config.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      logLevel: 'silent',
    }).then(() => outfile);
    configModules.set(dir, made);
  }
  return made;
}

export interface BundleSpec {
  version: string;
  /** The runtime reports ok=false. */
  failHealth?: boolean;
  /** Incompressible bytes added, to make the upload take a while. */
  padBytes?: number;
  /** Signed with this key instead of the test key (a bundle the board must refuse). */
  signWith?: KeyPair;
  /** Changes lib/data.txt after signing. */
  tamperAfterSigning?: boolean;
}

export interface TestKeys {
  good: KeyPair;
  other: KeyPair;
}

export async function testKeys(dir: string): Promise<TestKeys> {
  return {
    good: await loadOrCreateKeyPair(join(dir, 'keys-good')),
    other: await loadOrCreateKeyPair(join(dir, 'keys-other')),
  };
}

/** Builds, signs and packs a small bundle; returns its unpacked folder and the tarball as flash reads it. */
export async function makeBundle(
  dir: string,
  keys: TestKeys,
  spec: BundleSpec,
): Promise<{ dir: string; bundle: LocalBundle }> {
  const top = `glasses-${spec.version}-linux-${ARCH}`;
  const tag = `${spec.version}${spec.signWith ? '-othersig' : ''}${spec.tamperAfterSigning ? '-tampered' : ''}`;
  const src = join(dir, 'src', tag);
  await fs.rm(src, { recursive: true, force: true });
  await fs.mkdir(join(src, 'lib'), { recursive: true });
  await fs.writeFile(join(src, 'runtime.mjs'), runtime(await configModule(dir)));
  await fs.writeFile(join(src, 'lib', 'data.txt'), `version ${spec.version}\n`);
  if (spec.failHealth === true) await fs.writeFile(join(src, 'FAIL_HEALTH'), 'the runtime reports not ok\n');
  if (spec.padBytes !== undefined) {
    const pad = Buffer.alloc(spec.padBytes);
    // A cheap deterministic PRNG: incompressible, so gzip cannot shrink the upload.
    let x = 2463534242;
    for (let i = 0; i < pad.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      pad[i] = x & 0xff;
    }
    await fs.writeFile(join(src, 'lib', 'pad.bin'), pad);
  }
  await writeSignedManifest(
    src,
    { version: spec.version, arch: ARCH },
    (spec.signWith ?? keys.good).privateKeyPem,
  );
  if (spec.tamperAfterSigning === true) await fs.appendFile(join(src, 'lib', 'data.txt'), 'one more line\n');
  const out = join(dir, 'out', tag, `${top}.tar.gz`);
  await packBundle(src, top, out);
  return { dir: src, bundle: await readLocalBundle(out, AbortSignal.timeout(10_000)) };
}

/**
 * A copy of a built bundle's staged folder as `version`, its entry point corrupted so that it throws
 * at start, signed and packed again: a build that dies before it writes any health report.
 */
export async function throwingBundle(
  dir: string,
  keys: TestKeys,
  from: string,
  version: string,
): Promise<{ dir: string; bundle: LocalBundle }> {
  const top = `glasses-${version}-linux-${ARCH}`;
  const src = join(dir, 'src', `${version}-throws`);
  await fs.rm(src, { recursive: true, force: true });
  await fs.cp(from, src, { recursive: true });
  const entry = join(src, 'runtime.mjs');
  await fs.writeFile(
    entry,
    `throw new Error('corrupted entry point (test ${version})');\n${await fs.readFile(entry, 'utf8')}`,
  );
  // The copy's MANIFEST.json and MANIFEST.sig are replaced: the board must take it on its merits.
  await writeSignedManifest(src, { version, arch: ARCH }, keys.good.privateKeyPem);
  const out = join(dir, 'out', `${version}-throws`, `${top}.tar.gz`);
  await packBundle(src, top, out);
  return { dir: src, bundle: await readLocalBundle(out, AbortSignal.timeout(10_000)) };
}

/**
 * The stand-in for the systemd unit, written once per test folder; its restart command per board
 * (`sh service.sh ROOT`), and `... ROOT status` (0 running, 3 exited) and `... ROOT log`.
 */
export async function writeService(dir: string): Promise<(root: string) => string> {
  const file = join(dir, 'service.sh');
  await fs.writeFile(
    file,
    `#!/bin/sh
# The flash tests' stand-in for \`systemctl restart glasses\`: stop the runtime, start it from current.
set -eu
root=$1
mkdir -p "$root/run"
pidfile="$root/run/runtime.pid"
# Here, orphans are reaped late by PID 1; a zombie has stopped all the same.
running() { s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; case "$s" in Z*) return 1 ;; esac; }
case "\${2:-restart}" in
  status) if [ -f "$pidfile" ] && running "$(cat "$pidfile")"; then exit 0; fi; echo "not running"; exit 3 ;;
  log) tail -n 20 "$root/run/runtime.log"; exit 0 ;;
esac
if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile")
  if kill "$pid" 2>/dev/null; then
    i=0
    while running "$pid" && [ "$i" -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  fi
fi
GLASSES_HEALTH__FILE="$root/run/health.json" nohup ${process.execPath} "$root/current/runtime.mjs" </dev/null >>"$root/run/runtime.log" 2>&1 &
echo $! > "$pidfile"
`,
    { mode: 0o755 },
  );
  return (root) => `sh ${file} ${root}`;
}

export interface Health {
  version: string;
  pid: number;
  startedAtMs: number;
  atMs: number;
  ok: boolean;
}

export function readHealth(root: string): Health | undefined {
  try {
    return JSON.parse(readFileSync(join(root, 'run', 'health.json'), 'utf8')) as Health;
  } catch {
    return undefined;
  }
}

export async function waitHealth(root: string, version: string, timeoutMs = 5000): Promise<Health> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = readHealth(root);
    if (h?.version === version && h.ok && Date.now() - h.atMs < 1000) return h;
    if (Date.now() > deadline)
      throw new Error(`no fresh ok health of ${version} under ${root}: ${JSON.stringify(h)}`);
    await sleep(50);
  }
}

/** A board that already runs `bundleDir` from slot a, with the test key trusted and some data. */
export async function boardRunning(
  root: string,
  bundleDir: string,
  keys: TestKeys,
  restartCmd: string,
  version: string,
): Promise<void> {
  await fs.mkdir(join(root, 'slots'), { recursive: true });
  await fs.mkdir(join(root, 'keys'), { recursive: true });
  await fs.mkdir(join(root, 'data'), { recursive: true });
  await fs.cp(bundleDir, join(root, 'slots', 'a'), { recursive: true });
  await fs.symlink('slots/a', join(root, 'current'));
  await fs.writeFile(join(root, 'keys', 'bundle.pub.pem'), keys.good.publicKeyPem);
  await fs.writeFile(join(root, 'data', 'orders.json'), '{"kept":true}\n');
  await new Promise<void>((resolve, reject) => {
    const p = spawn('sh', ['-c', restartCmd], { stdio: 'ignore' });
    p.on('error', reject);
    p.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${restartCmd} exited ${String(code)}`));
    });
  });
  await waitHealth(root, version);
}

export function runtimePid(root: string): number | undefined {
  const file = join(root, 'run', 'runtime.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8')) : undefined;
}

export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the runtime this board's service started (by its pid file), for test teardown. */
export function stopRuntime(root: string): void {
  const pid = runtimePid(root);
  if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGTERM');
}

/** `current` as the board sees it: 'a', 'b', or undefined. */
export async function currentSlot(root: string): Promise<string | undefined> {
  try {
    return (await fs.readlink(join(root, 'current'))).replace(/^slots\//, '');
  } catch {
    return undefined;
  }
}

/** The bundle's bytes in chunks of `chunk`, `delayMs` apart: an upload slow enough to cut halfway. */
export function throttled(bundle: LocalBundle, chunk: number, delayMs: number): LocalBundle {
  return {
    ...bundle,
    open: (): Readable => {
      const src = bundle.open();
      return src.pipe(
        new Transform({
          transform(data: Buffer, _enc, done) {
            const push = async (): Promise<void> => {
              for (let i = 0; i < data.length; i += chunk) {
                this.push(data.subarray(i, i + chunk));
                await sleep(delayMs);
              }
            };
            push().then(() => {
              done();
            }, done);
          },
        }),
      );
    },
  };
}

/** The bundle's bytes with one byte flipped halfway: what a broken link or a meddler would deliver. */
export function flipped(bundle: LocalBundle): LocalBundle {
  const at = Math.floor(bundle.bytes / 2);
  return {
    ...bundle,
    open: (): Readable => {
      let offset = 0;
      return bundle.open().pipe(
        new Transform({
          transform(data: Buffer, _enc, done) {
            if (at >= offset && at < offset + data.length) {
              data = Buffer.from(data);
              data[at - offset] = (data[at - offset] ?? 0) ^ 0xff;
            }
            offset += data.length;
            done(null, data);
          },
        }),
      );
    },
  };
}

/** One sshd, keys and service for a test file; boards are folders under `dir`. */
export interface FlashRig {
  dir: string;
  server: SshServer;
  keys: TestKeys;
  restartCmd: (root: string) => string;
  /** A ShellBoard for `root` over the rig's sshd (a second board is a second root). */
  board(root: string): ShellBoard;
  stop(): Promise<void>;
}

export async function startRig(dir: string): Promise<FlashRig> {
  const server = await startSshd(join(dir, 'sshd'));
  const keys = await testKeys(dir);
  const restartCmd = await writeService(dir);
  return {
    dir,
    server,
    keys,
    restartCmd,
    board: (root) =>
      new ShellBoard({
        shell: new SshShell(
          { ...parseBoardTarget(server.board), label: `${server.board}${root}` },
          {
            configFile: server.configFile,
          },
        ),
        root,
        node: process.execPath,
        healthFile: join(root, 'run', 'health.json'),
        restartCmd: restartCmd(root),
        statusCmd: `${restartCmd(root)} status`,
        logCmd: `${restartCmd(root)} log`,
        pollMs: 50,
      }),
    stop: async () => {
      // Every board is a folder of `dir`; each may have a runtime its service started.
      for (const name of await fs.readdir(dir)) stopRuntime(join(dir, name));
      await server.stop();
      await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

export interface Flashed {
  result: BoardFlashResult;
  progress: FlashProgress[];
}

/** One board's flash with test timings; `onProgress` may interrupt it (soft/hard controllers). */
export async function flashOne(
  board: Board,
  bundle: LocalBundle,
  options: {
    healthTimeoutMs?: number;
    provisionKeyPem?: string;
    provision?: ProvisionPlan;
    onProgress?: (p: FlashProgress, ctl: { soft: AbortController; hard: AbortController }) => void;
  } = {},
): Promise<Flashed> {
  const soft = new AbortController();
  const hard = new AbortController();
  const progress: FlashProgress[] = [];
  const result = await flashBoard(
    board,
    bundle,
    {
      healthTimeoutMs: options.healthTimeoutMs ?? 5000,
      ...(options.provisionKeyPem === undefined ? {} : { provisionKeyPem: options.provisionKeyPem }),
      ...(options.provision === undefined ? {} : { provision: options.provision }),
      reconnectForMs: 20_000,
      reconnectDelayMs: 200,
      now: () => performance.now(),
      sleep: (ms, signal) => sleep(ms, undefined, { signal }),
      newId: () => `t${Date.now().toString(36)}`,
    },
    (p) => {
      progress.push(p);
      options.onProgress?.(p, { soft, hard });
    },
    { soft: soft.signal, hard: hard.signal },
  );
  return { result, progress };
}
