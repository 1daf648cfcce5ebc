/** Reading the bundle to flash: version, arch and top folder from its manifest; refusing what is not one. */
import { mkdtempSync, promises as fs } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateKeyPair, writeSignedManifest } from '../../../firmware-ts/src/bundle/manifest.js';
import { packBundle } from '../../../firmware-ts/src/bundle/pack.js';
import { isFlashError } from '../../../firmware-ts/src/flash/errors.js';
import { readLocalBundle, signedBy } from '../../../firmware-ts/src/flash/bundle-file.js';

const signal = (): AbortSignal => AbortSignal.timeout(10_000);

async function expectRefused(file: string, why: RegExp): Promise<void> {
  let err: unknown;
  try {
    await readLocalBundle(file, signal());
  } catch (e) {
    err = e;
  }
  expect(isFlashError(err, 'E_FLASH_BUNDLE')).toBe(true);
  expect((err as Error).message).toMatch(why);
}

describe('readLocalBundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'glasses-bundle-file-'));
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('reads version, arch, top folder, size and sha256 of a packed bundle, long paths and all', async () => {
    const src = join(dir, 'src');
    // A path past ustar's 100 bytes gets a pax header before it, which the reader must step over.
    const deep = join(src, 'node_modules', 'a'.repeat(60), 'b'.repeat(60));
    await fs.mkdir(deep, { recursive: true });
    await fs.writeFile(join(deep, 'index.js'), 'export {};\n');
    await fs.writeFile(join(src, 'zz-last.bin'), Buffer.alloc(70_000, 7));
    const keys = await loadOrCreateKeyPair(join(dir, 'keys'));
    await writeSignedManifest(src, { version: '3.1.4', arch: 'arm64' }, keys.privateKeyPem);
    const out = join(dir, 'glasses-3.1.4-linux-arm64.tar.gz');
    const packed = await packBundle(src, 'glasses-3.1.4-linux-arm64', out);

    const b = await readLocalBundle(out, signal());
    expect(b).toMatchObject({
      file: out,
      bytes: packed.bytes,
      sha256: packed.sha256,
      version: '3.1.4',
      arch: 'arm64',
      topName: 'glasses-3.1.4-linux-arm64',
      unpackedBytes: 70_000 + 'export {};\n'.length,
    });
    expect(b.manifestBytes.toString('utf8')).toBe(await fs.readFile(join(src, 'MANIFEST.json'), 'utf8'));
    expect(signedBy(b, keys.publicKeyPem)).toBe(true);
    const other = await loadOrCreateKeyPair(join(dir, 'other-keys'));
    expect(signedBy(b, other.publicKeyPem)).toBe(false);
    expect(signedBy({ ...b, signature: null }, keys.publicKeyPem)).toBe(false);

    const streamed = createHash('sha256');
    for await (const chunk of b.open()) streamed.update(chunk as Buffer);
    expect(streamed.digest('hex')).toBe(packed.sha256);
  });

  it('refuses a missing file, a non-gzip file and a tarball with no manifest', async () => {
    await expectRefused(join(dir, 'nope.tar.gz'), /cannot be read/);
    await fs.writeFile(join(dir, 'text.tar.gz'), 'not gzip');
    await expectRefused(join(dir, 'text.tar.gz'), /not a readable \.tar\.gz/);
    // An empty tar: two zero blocks, gzipped.
    await fs.writeFile(join(dir, 'empty.tar.gz'), gzipSync(Buffer.alloc(1024)));
    await expectRefused(join(dir, 'empty.tar.gz'), /no <top folder>\/MANIFEST\.json inside/);
  });
});
