/** packBundle: the same tree gives the same bytes; GNU tar reads it back exactly; output is atomic. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packBundle } from '../../../firmware-ts/src/bundle/pack.js';
import { makeTree, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

describe('packBundle', () => {
  it('gives the same sha256 for the same tree, whatever the mtimes, umask modes or build folder', async () => {
    const a = join(tempDir(), 'tree');
    makeTree(a);
    const out = tempDir();
    const first = await packBundle(a, 'top', join(out, 'a.tar.gz'));
    expect(first.sha256).toBe(sha256(first.file));
    expect(first.bytes).toBe(readFileSync(first.file).length);

    const b = join(tempDir(), 'elsewhere');
    makeTree(b);
    utimesSync(join(b, 'empty.txt'), 1_000_000, 1_000_000);
    chmodSync(join(b, 'bin/run.sh'), 0o700); // still executable: 755 in the archive
    chmodSync(join(b, 'empty.txt'), 0o600);
    const second = await packBundle(b, 'top', join(out, 'b.tar.gz'));
    expect(second.sha256).toBe(first.sha256);

    writeFileSync(join(b, 'empty.txt'), 'changed');
    expect((await packBundle(b, 'top', join(out, 'c.tar.gz'))).sha256).not.toBe(first.sha256);
  });

  it('is read back by GNU tar under one top folder, with owner 0, mtime 0 and fixed modes', async () => {
    const src = join(tempDir(), 'tree');
    const { longPath } = makeTree(src);
    const { file } = await packBundle(src, 'glasses-1.0.0-linux-x64', join(tempDir(), 'b.tar.gz'));
    const listing = execFileSync(
      'tar',
      ['-tvzf', file, '--numeric-owner', '--full-time', '--quoting-style=literal'],
      {
        encoding: 'utf8',
      },
    )
      .trim()
      .split('\n');
    for (const line of listing) {
      expect(line).toMatch(
        /^[-d]rw[-x]r-[-x]r-[-x] 0\/0 +\d+ 1970-01-01 00:00:00 glasses-1\.0\.0-linux-x64\//,
      );
    }
    expect(listing.find((l) => l.endsWith('bin/run.sh'))).toMatch(/^-rwxr-xr-x/);
    expect(listing.find((l) => l.endsWith('/empty.txt'))).toMatch(/^-rw-r--r--/);
    expect(listing.some((l) => l.endsWith(longPath))).toBe(true);

    const dest = tempDir();
    execFileSync('tar', ['-xzf', file, '-C', dest]);
    execFileSync('diff', ['-r', src, join(dest, 'glasses-1.0.0-linux-x64')]); // throws on any difference
  });

  it('refuses a symlink and leaves neither a tarball nor a temp file behind', async () => {
    const src = join(tempDir(), 'tree');
    makeTree(src);
    symlinkSync('/etc/passwd', join(src, 'models', 'passwd'));
    const out = tempDir();
    await expect(packBundle(src, 'top', join(out, 'b.tar.gz'))).rejects.toMatchObject({
      code: 'E_BUNDLE_INVALID',
      message: expect.stringMatching(/passwd is a symlink/) as string,
    });
    expect(readdirSync(out)).toEqual([]);
  });

  it('replaces an older tarball only once the new one is complete', async () => {
    const src = join(tempDir(), 'tree');
    makeTree(src);
    const out = join(tempDir(), 'b.tar.gz');
    writeFileSync(out, 'old');
    const r = await packBundle(src, 'top', out);
    expect(sha256(out)).toBe(r.sha256);
    expect(readdirSync(join(out, '..'))).toEqual(['b.tar.gz']);
    expect(existsSync(out)).toBe(true);
  });

  it('refuses a top folder name that is not one plain name', async () => {
    const src = join(tempDir(), 'tree');
    makeTree(src);
    for (const top of ['', 'a/b', '..'])
      await expect(packBundle(src, top, join(tempDir(), 'x.tar.gz'))).rejects.toMatchObject({
        code: 'E_BUNDLE_INVALID',
      });
  });
});
