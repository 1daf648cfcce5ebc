import { spawnSync } from 'node:child_process';
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';
import { writeFileAtomic } from '../../../firmware-ts/src/util/atomic-file.js';

const mode = (file: string): number => statSync(file).mode & 0o777;

describe('writeFileAtomic', () => {
  it('writes a new file 0600 whatever the umask, and the mode asked for when one is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const old = process.umask(0);
    try {
      await writeFileAtomic(join(dir, 'private.json'), '{}\n');
      await writeFileAtomic(join(dir, 'shared.json'), '{}\n', { mode: 0o644 });
    } finally {
      process.umask(old);
    }
    expect(mode(join(dir, 'private.json'))).toBe(0o600);
    expect(mode(join(dir, 'shared.json'))).toBe(0o644);
    // A file that was world-readable is replaced by a private one.
    writeFileSync(join(dir, 'old.json'), 'old\n', { mode: 0o644 });
    await writeFileAtomic(join(dir, 'old.json'), 'new\n');
    expect(mode(join(dir, 'old.json'))).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['old.json', 'private.json', 'shared.json']);
  });

  it('replaces a symlink at the name instead of writing through it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const target = join(dir, 'target');
    writeFileSync(target, 'untouched\n');
    symlinkSync(target, join(dir, 'link'));
    await writeFileAtomic(join(dir, 'link'), 'data\n');
    expect(readFileSync(target, 'utf8')).toBe('untouched\n');
    expect(lstatSync(join(dir, 'link')).isFile()).toBe(true);
  });

  it('leaves no temp file when the write fails (EFBIG past ulimit -f), and keeps the old file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const file = join(dir, 'entry.json');
    writeFileSync(file, 'old\n', { mode: 0o600 });
    // Node ignores SIGXFSZ, so a write past the limit fails with EFBIG instead of killing it.
    const script = [
      `import { writeFileAtomic } from ${JSON.stringify(join(PACKAGE_ROOT, 'firmware-ts/src/util/atomic-file.ts'))};`,
      `await writeFileAtomic(${JSON.stringify(file)}, Buffer.alloc(1 << 20)).then(`,
      `  () => console.log('written'), (e) => console.log(e.code));`,
    ].join('\n');
    const r = spawnSync(
      '/bin/sh',
      ['-c', 'ulimit -f 64 && exec "$0" --import tsx --input-type=module -e "$1"', process.execPath, script],
      { cwd: PACKAGE_ROOT, encoding: 'utf8' },
    );
    expect(r.stdout.trim()).toBe('EFBIG');
    expect(readdirSync(dir)).toEqual(['entry.json']);
    expect(readFileSync(file, 'utf8')).toBe('old\n');
  });
});
