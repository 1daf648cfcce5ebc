/** The signed manifest: keys, signing, and the board-side check refusing every kind of tampering. */
import { generateKeyPairSync } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  loadOrCreateKeyPair,
  manifestBytes,
  verifyBundleDir,
  writeSignedManifest,
  type BundleManifest,
} from '../../../firmware-ts/src/bundle/manifest.js';
import { makeTree, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

describe('loadOrCreateKeyPair', () => {
  it('creates a PKCS8 private key (0600) and an SPKI public key on first use, then reuses them', async () => {
    const dir = join(tempDir(), 'keys');
    const first = await loadOrCreateKeyPair(dir);
    expect(first.privateKeyFile).toBe(join(dir, 'bundle-ed25519.pem'));
    expect(first.publicKeyFile).toBe(join(dir, 'bundle-ed25519.pub.pem'));
    expect(first.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(first.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(statSync(first.privateKeyFile).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const again = await loadOrCreateKeyPair(dir);
    expect(again).toEqual(first);
  });

  it('agrees on one key when several builds start at once', async () => {
    const dir = join(tempDir(), 'keys');
    const pairs = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateKeyPair(dir)));
    for (const p of pairs) expect(p.privateKeyPem).toBe(pairs[0]!.privateKeyPem);
  });

  it.each([0o640, 0o604, 0o660])('refuses a private key with mode %o, naming the file', async (mode) => {
    const dir = join(tempDir(), 'keys');
    const { privateKeyFile } = await loadOrCreateKeyPair(dir);
    chmodSync(privateKeyFile, mode);
    await expect(loadOrCreateKeyPair(dir)).rejects.toMatchObject({
      code: 'E_BUNDLE_KEY',
      message: expect.stringContaining(privateKeyFile) as string,
    });
  });

  it('refuses a public key that is not the half of the private key', async () => {
    const dir = join(tempDir(), 'keys');
    const { publicKeyFile } = await loadOrCreateKeyPair(dir);
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(publicKeyFile, other);
    await expect(loadOrCreateKeyPair(dir)).rejects.toMatchObject({
      code: 'E_BUNDLE_KEY',
      message: expect.stringContaining(publicKeyFile) as string,
    });
  });

  it('rewrites a deleted public key from the private key', async () => {
    const dir = join(tempDir(), 'keys');
    const first = await loadOrCreateKeyPair(dir);
    rmSync(first.publicKeyFile);
    expect((await loadOrCreateKeyPair(dir)).publicKeyPem).toBe(first.publicKeyPem);
  });
});

describe('writeSignedManifest and verifyBundleDir', () => {
  let dir: string;
  let keys: Awaited<ReturnType<typeof loadOrCreateKeyPair>>;
  let manifest: BundleManifest;
  let longPath: string;

  beforeEach(async () => {
    const base = tempDir();
    dir = join(base, 'bundle');
    ({ longPath } = makeTree(dir));
    keys = await loadOrCreateKeyPair(join(base, 'keys'));
    manifest = await writeSignedManifest(dir, { version: '1.2.3', arch: 'arm64' }, keys.privateKeyPem);
  });

  it('lists every file sorted by path with size, sha256 and mode, in the agreed format', () => {
    expect(manifest.files.map((f) => f.path)).toEqual(
      ['bin/run.sh', 'dist/firmware-ts/src/cli.js', 'empty.txt', 'models/manifest.json', longPath].sort(),
    );
    const run = manifest.files.find((f) => f.path === 'bin/run.sh')!;
    expect(run.mode).toBe('755');
    const empty = manifest.files.find((f) => f.path === 'empty.txt')!;
    expect(empty).toEqual({
      path: 'empty.txt',
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      size: 0,
      mode: '644',
    });
    const text = readFileSync(join(dir, 'MANIFEST.json'), 'utf8');
    expect(text).toBe(`${JSON.stringify(manifest, null, 2)}\n`);
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['format', 'name', 'version', 'arch', 'files']);
    expect(manifest).toMatchObject({ format: 1, name: 'glasses-runtime', version: '1.2.3', arch: 'arm64' });
    expect(readFileSync(join(dir, 'MANIFEST.sig'), 'utf8')).toMatch(/^[A-Za-z0-9+/]{86}==\n$/);
  });

  it('accepts the untouched bundle, and re-signing gives the same manifest', async () => {
    expect(await verifyBundleDir(dir, keys.publicKeyPem)).toEqual({
      ok: true,
      version: '1.2.3',
      arch: 'arm64',
      files: 5,
    });
    const again = await writeSignedManifest(dir, { version: '1.2.3', arch: 'arm64' }, keys.privateKeyPem);
    expect(manifestBytes(again)).toEqual(manifestBytes(manifest));
  });

  async function refusal(): Promise<string> {
    const r = await verifyBundleDir(dir, keys.publicKeyPem);
    expect(r.ok).toBe(false);
    return r.ok ? '' : r.error;
  }

  it('refuses a file with one byte changed (same size), naming it', async () => {
    const file = join(dir, 'dist/firmware-ts/src/cli.js');
    const bytes = readFileSync(file);
    bytes[0] = bytes[0]! ^ 1;
    writeFileSync(file, bytes);
    expect(await refusal()).toMatch(/dist\/firmware-ts\/src\/cli\.js.*sha256/);
  });

  it('refuses a file of another size', async () => {
    appendFileSync(join(dir, 'empty.txt'), 'x');
    expect(await refusal()).toMatch(/empty\.txt is 1 bytes, the manifest says 0/);
  });

  it('refuses an extra file, even deep in a folder', async () => {
    writeFileSync(join(dir, 'models', 'evil.onnx'), 'x');
    expect(await refusal()).toMatch(/models\/evil\.onnx is not listed/);
  });

  it('refuses a missing file', async () => {
    rmSync(join(dir, 'models', 'manifest.json'));
    expect(await refusal()).toMatch(/models\/manifest\.json is listed .* but missing/);
  });

  it('refuses a symlink in place of a file, and an extra symlink', async () => {
    rmSync(join(dir, 'empty.txt'));
    symlinkSync('/etc/hostname', join(dir, 'empty.txt'));
    expect(await refusal()).toMatch(/empty\.txt is not a regular file/);
    rmSync(join(dir, 'empty.txt'));
    writeFileSync(join(dir, 'empty.txt'), '');
    symlinkSync('dist', join(dir, 'link'));
    expect(await refusal()).toMatch(/link is not listed/);
  });

  it('refuses another key', async () => {
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const r = await verifyBundleDir(dir, other);
    expect(r).toEqual({
      ok: false,
      error: expect.stringMatching(/signature MANIFEST\.sig does not match/) as string,
    });
  });

  it('refuses a manifest edited after signing', async () => {
    const edited = { ...manifest, version: '9.9.9' };
    writeFileSync(join(dir, 'MANIFEST.json'), manifestBytes(edited));
    expect(await refusal()).toMatch(/signature MANIFEST\.sig does not match MANIFEST\.json/);
  });

  it.each([
    ['empty', ''],
    ['not base64', 'not a signature at all\n'],
    ['too short', `${Buffer.alloc(32, 1).toString('base64')}\n`],
    ['64 zero bytes', `${Buffer.alloc(64).toString('base64')}\n`],
  ])('refuses a bad signature file (%s)', async (_name, text) => {
    writeFileSync(join(dir, 'MANIFEST.sig'), text);
    expect(await refusal()).toMatch(/signature MANIFEST\.sig/);
  });

  it('refuses a missing signature or manifest', async () => {
    rmSync(join(dir, 'MANIFEST.sig'));
    expect(await refusal()).toMatch(/signature .*MANIFEST\.sig cannot be read/);
    rmSync(join(dir, 'MANIFEST.json'));
    expect(await refusal()).toMatch(/manifest .*MANIFEST\.json cannot be read/);
  });

  it('refuses a key that is not an ed25519 public key', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({
        type: 'spki',
        format: 'pem',
      })
      .toString();
    expect(await verifyBundleDir(dir, rsa)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/rsa/) as string,
    });
    expect(await verifyBundleDir(dir, 'nonsense')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not a PEM key/) as string,
    });
  });

  it('refuses, when signing, a tree holding a symlink', async () => {
    symlinkSync('/etc/passwd', join(dir, 'models', 'passwd'));
    await expect(
      writeSignedManifest(dir, { version: '1.2.3', arch: 'arm64' }, keys.privateKeyPem),
    ).rejects.toMatchObject({
      code: 'E_BUNDLE_INVALID',
      message: expect.stringMatching(/passwd is a symlink/) as string,
    });
  });

  it('refuses to sign with a key that is not ed25519', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      })
      .toString();
    await expect(writeSignedManifest(dir, { version: '1', arch: 'x64' }, rsa)).rejects.toMatchObject({
      code: 'E_BUNDLE_KEY',
    });
  });
});
