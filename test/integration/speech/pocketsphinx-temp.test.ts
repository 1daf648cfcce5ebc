/**
 * The recogniser's temp files, with the real pocketsphinx, against what another local user can do in
 * a shared temp folder and against a kill -9. TMPDIR points at a fresh world-writable, sticky folder
 * standing for /tmp; `glasses-pocketsphinx` in it is the fixed folder earlier versions used, where
 * the planted files go. When the tests run as root, "another user" is nobody (65534).
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lchownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readWavAs16kMono } from '../../../firmware-ts/src/audio/wav.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';
import { COMMANDS, commandGrammar, grammarWords } from '../../../firmware-ts/src/speech/intents.js';
import { PocketsphinxRecognizer } from '../../../firmware-ts/src/speech/pocketsphinx.js';

const run = promisify(execFile);
const never = new AbortController().signal;
const DRIVER = join(PACKAGE_ROOT, 'test', 'helpers', 'recognize-driver.ts');
const ROOT = process.getuid?.() === 0;
const OTHER_UID = 65534;
/**
 * As root, (c) runs the recogniser as another user, who must be able to read this checkout: a clone
 * under a 0700 home (/root) is out of that user's reach.
 */
const OTHER_CAN_READ =
  !ROOT ||
  spawnSync(process.execPath, ['-e', `require('node:fs').accessSync(${JSON.stringify(DRIVER)})`], {
    uid: OTHER_UID,
    gid: OTHER_UID,
  }).status === 0;
const LEGACY = 'glasses-pocketsphinx';

const scratch = mkdtempSync(join(tmpdir(), 'pocketsphinx-temp-test-'));
let coffee: Int16Array;
let shared: string;
let savedTmpdir: string | undefined;

beforeAll(async () => {
  const wav = join(scratch, 'coffee.wav');
  await run('espeak-ng', ['-v', 'en-gb-x-rp', '-s', '150', '-w', wav, 'order a coffee']);
  const { pcm } = await readWavAs16kMono(wav);
  coffee = new Int16Array(4800 + pcm.length + 9600);
  coffee.set(pcm, 4800);
  return () => {
    rmSync(scratch, { recursive: true, force: true });
  };
});

beforeEach(() => {
  shared = mkdtempSync(join(scratch, 'tmp-'));
  chmodSync(scratch, 0o755);
  chmodSync(shared, 0o1777);
  savedTmpdir = process.env.TMPDIR;
  process.env.TMPDIR = shared;
});

afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
});

/** The fixed folder of earlier versions, as another user would have made it, world-writable. */
function plantedFolder(): string {
  const dir = join(shared, LEGACY);
  mkdirSync(dir);
  chmodSync(dir, 0o777);
  if (ROOT) lchownSync(dir, OTHER_UID, OTHER_UID);
  return dir;
}

function plant(dir: string, name: string, write: (file: string) => void): void {
  const file = join(dir, name);
  write(file);
  if (ROOT) lchownSync(file, OTHER_UID, OTHER_UID);
}

/** A decoder that first appends `<mode> <uid> <path>` of each file it is given, and of its folder, to `log`. */
function statingDecoder(log: string): string {
  const file = join(scratch, `stating-decoder-${Date.now()}`);
  writeFileSync(
    file,
    [
      '#!/bin/sh',
      'prev=',
      'for a in "$@"; do',
      '  case "$prev" in -infile|-jsgf|-dict) stat -c "%a %u %n" "$a" "$(dirname "$a")" >> ' +
        log +
        ' ;; esac',
      '  prev="$a"',
      'done',
      'exec pocketsphinx_continuous "$@"',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return file;
}

/** Every path under `dir` whose name contains `part`. */
function findUnder(dir: string, part: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((p) => p.split('/').pop()?.includes(part) === true)
    .map((p) => join(dir, p));
}

interface DriverRun {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runDriver(
  env: Record<string, string>,
  options: { uid?: number; killWhen?: () => boolean } = {},
): Promise<DriverRun> {
  return new Promise((resolve, reject) => {
    const pcmFile = join(shared, 'input.pcm');
    writeFileSync(pcmFile, new Uint8Array(coffee.buffer, coffee.byteOffset, coffee.byteLength), {
      mode: 0o644,
    });
    // node --import tsx, not the tsx binary, so that SIGKILL reaches the recogniser's process.
    const child = spawn(process.execPath, ['--import', 'tsx', DRIVER], {
      cwd: PACKAGE_ROOT,
      env: { ...process.env, TMPDIR: shared, RECOGNIZE_PCM: pcmFile, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const poll =
      options.killWhen === undefined
        ? undefined
        : setInterval(() => {
            if (options.killWhen?.() === true) child.kill('SIGKILL');
          }, 20);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      resolve({ pid: child.pid ?? -1, code, signal, stdout, stderr });
    });
  });
}

describe('PocketsphinxRecognizer temp files', () => {
  it("(a) writes the wearer's audio through no planted symlink, 0600 in a 0700 folder of its own", async () => {
    const victim = join(scratch, 'victim.txt');
    writeFileSync(victim, 'not for the recogniser\n');
    const legacy = plantedFolder();
    for (let n = 1; n <= 5; n++) {
      plant(legacy, `utterance-${process.pid}-${n}.raw`, (f) => {
        symlinkSync(victim, f);
      });
    }
    const seen = join(scratch, `seen-${Date.now()}.log`);
    const recognizer = new PocketsphinxRecognizer({ log: silentLogger(), decoder: statingDecoder(seen) });
    const r = await recognizer.recognize(coffee, never);
    await recognizer.close();
    expect(readFileSync(victim, 'utf8')).toBe('not for the recogniser\n');
    expect(r).toMatchObject({ transcript: 'order a coffee', accepted: true });
    const lines = readFileSync(seen, 'utf8').trim().split('\n');
    // Three decodes, each given audio, grammar and dictionary, each with its folder.
    expect(lines).toHaveLength(18);
    const uid = String(process.getuid?.());
    for (const line of lines) {
      const [mode, owner, path] = line.split(' ');
      const isDir = !/\.(raw|gram|dict)$/.test(path ?? '');
      expect({ path, mode, owner }).toEqual({ path, mode: isDir ? '700' : '600', owner: uid });
    }
  });

  it('(b) decodes with a grammar of its own, not one planted under the name it would use', async () => {
    const legacy = plantedFolder();
    const hash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);
    const words = `#JSGF V1.0;\n\ngrammar words;\n\npublic <words> = <unit>+;\n\n<unit> = ${grammarWords(COMMANDS).join(' | ')};\n`;
    const yeah = (name: string): string => `#JSGF V1.0;\n\ngrammar ${name};\n\npublic <${name}> = yeah;\n`;
    plant(legacy, `commands-${hash(commandGrammar(COMMANDS))}.gram`, (f) => {
      writeFileSync(f, yeah('command'));
    });
    plant(legacy, `words-${hash(words)}.gram`, (f) => {
      writeFileSync(f, yeah('words'));
    });
    const recognizer = new PocketsphinxRecognizer({ log: silentLogger() });
    const r = await recognizer.recognize(coffee, never);
    await recognizer.close();
    expect(r).toMatchObject({
      transcript: 'order a coffee',
      intent: { name: 'order', slots: { item: 'coffee' } },
      accepted: true,
    });
  });

  it("(c) recognises beside a folder another user's earlier run left, which it cannot write to, and removes its own at exit", async (ctx) => {
    if (!OTHER_CAN_READ)
      ctx.skip(`uid ${OTHER_UID} cannot read ${PACKAGE_ROOT}: run from a checkout other users can read`);
    const left = join(shared, LEGACY);
    mkdirSync(left);
    // Root's default mode; running as the same user, a folder nobody may write to is the same obstacle.
    chmodSync(left, ROOT ? 0o755 : 0o555);
    const r = await runDriver({}, ROOT ? { uid: OTHER_UID } : {});
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ transcript: 'order a coffee', accepted: true });
    // Its folder went when it exited.
    expect(findUnder(shared, `-${r.pid}-`)).toEqual([]);
  });

  it('(d) after a kill -9 mid-recognition, the audio left is private and the next run removes it', async () => {
    const pids = join(scratch, `decoder-pids-${Date.now()}`);
    const stalling = join(scratch, `stalling-decoder-${Date.now()}`);
    writeFileSync(stalling, `#!/bin/sh\necho $$ >> ${pids}\nexec sleep 30\n`, { mode: 0o755 });
    const decoders = (): string[] =>
      existsSync(pids) ? readFileSync(pids, 'utf8').trim().split('\n').filter(Boolean) : [];
    const killed = await runDriver(
      { RECOGNIZE_DECODER: stalling },
      { killWhen: () => decoders().length === 3 },
    );
    for (const pid of decoders()) process.kill(Number(pid), 'SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    const left = findUnder(shared, 'utterance-');
    // Whatever the dead process left is nobody else's to read.
    for (const file of left) {
      expect({ file, mode: statSync(file).mode & 0o777 }).toEqual({ file, mode: 0o600 });
      expect({ file, mode: statSync(join(file, '..')).mode & 0o777 }).toEqual({ file, mode: 0o700 });
    }
    expect(left).not.toEqual([]);
    const recognizer = new PocketsphinxRecognizer({ log: silentLogger() });
    expect(await recognizer.recognize(coffee, never)).toMatchObject({ transcript: 'order a coffee' });
    await recognizer.close();
    expect(findUnder(shared, `-${killed.pid}-`)).toEqual([]);
    expect(findUnder(shared, 'utterance-')).toEqual([]);
  });

  it("(d) removes the audio a killed earlier version left in its fixed folder, not a live process's or the grammars", async () => {
    const legacy = join(shared, LEGACY);
    mkdirSync(legacy, { mode: 0o755 });
    const dead = await runDriver({ RECOGNIZE_PCM: '/nonexistent' });
    const files = [`utterance-${dead.pid}-1.raw`, 'utterance-1-1.raw', 'commands-0123456789abcdef.gram'];
    for (const f of files) writeFileSync(join(legacy, f), 'x', { mode: 0o644 });
    const recognizer = new PocketsphinxRecognizer({ log: silentLogger() });
    await recognizer.recognize(coffee, never);
    await recognizer.close();
    // pid 1 always runs.
    expect(readdirSync(legacy).sort()).toEqual(['commands-0123456789abcdef.gram', 'utterance-1-1.raw']);
  });
});
