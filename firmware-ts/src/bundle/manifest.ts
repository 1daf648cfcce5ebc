/**
 * The signed manifest of a bundle and its development signing keys. The format (and the check a board
 * runs) is in verify.ts, which must stay free of relative imports; this file writes what that one reads.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

import {
  BUNDLE_FORMAT,
  BUNDLE_NAME,
  bundleFileMode,
  manifestBytes,
  MANIFEST_FILE,
  sha256OfFile,
  SIGNATURE_FILE,
  type BundleArch,
  type BundleFile,
  type BundleManifest,
} from './verify.js';
import { GlassesError } from '../errors.js';

export {
  BUNDLE_FORMAT,
  BUNDLE_NAME,
  MANIFEST_FILE,
  SIGNATURE_FILE,
  manifestBytes,
  verifyBundleDir,
  type BundleArch,
  type BundleFile,
  type BundleManifest,
  type VerifyResult,
} from './verify.js';

export const PRIVATE_KEY_FILE = 'bundle-ed25519.pem';
export const PUBLIC_KEY_FILE = 'bundle-ed25519.pub.pem';

export interface KeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
  privateKeyFile: string;
  publicKeyFile: string;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Writes `text` to `file` only if no such file exists, all at once: a temp file is written, then hard
 * linked into place (link fails on an existing name, where rename would replace it). Returns false
 * when another process got there first, so two first builds agree on one key.
 */
async function createExclusive(file: string, text: string, mode: number): Promise<boolean> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const handle = await fs.open(tmp, 'wx', mode);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.chmod(mode); // the umask may have taken bits off; the mode must be exact
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.link(tmp, file);
    return true;
  } catch (err) {
    if (errno(err) === 'EEXIST') return false;
    throw new GlassesError('E_BUNDLE_KEY', `signing key ${file} cannot be created (${messageOf(err)})`, {
      details: { file },
      cause: err,
    });
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** The private key PEM, or undefined when the file does not exist. Refuses one others could read. */
async function readPrivateKey(file: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined;
    throw new GlassesError('E_BUNDLE_KEY', `signing key ${file} cannot be read (${messageOf(err)})`, {
      details: { file },
      cause: err,
    });
  }
  try {
    // fstat on the open handle: the file checked is the file read.
    const stat = await handle.stat();
    if (!stat.isFile()) throw new GlassesError('E_BUNDLE_KEY', `signing key ${file} is not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new GlassesError(
        'E_BUNDLE_KEY',
        `signing key ${file} is open to group or others (mode ${mode}); run \`chmod 600 ${file}\` or delete it to make a new one`,
        { details: { file, mode } },
      );
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

function publicPemOf(privateKeyPem: string, file: string): string {
  let key;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (err) {
    throw new GlassesError(
      'E_BUNDLE_KEY',
      `signing key ${file} is not a PEM private key (${messageOf(err)})`,
      {
        details: { file },
        cause: err,
      },
    );
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new GlassesError(
      'E_BUNDLE_KEY',
      `signing key ${file} is ${String(key.asymmetricKeyType)}, not ed25519`,
      { details: { file } },
    );
  return createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * The development signing key pair in `keyDir`, made on first use: the private key as PKCS8 PEM with
 * mode 0600, the public key as SPKI PEM next to it.
 */
export async function loadOrCreateKeyPair(keyDir: string): Promise<KeyPair> {
  const privateKeyFile = join(keyDir, PRIVATE_KEY_FILE);
  const publicKeyFile = join(keyDir, PUBLIC_KEY_FILE);
  try {
    await fs.mkdir(keyDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new GlassesError('E_BUNDLE_KEY', `key folder ${keyDir} cannot be created (${messageOf(err)})`, {
      details: { file: keyDir },
      cause: err,
    });
  }
  let privateKeyPem = await readPrivateKey(privateKeyFile);
  if (privateKeyPem === undefined) {
    const { privateKey } = generateKeyPairSync('ed25519');
    await createExclusive(
      privateKeyFile,
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      0o600,
    );
    privateKeyPem = await readPrivateKey(privateKeyFile);
    if (privateKeyPem === undefined)
      throw new GlassesError(
        'E_BUNDLE_KEY',
        `signing key ${privateKeyFile} vanished while it was being created`,
      );
  }
  const expected = publicPemOf(privateKeyPem, privateKeyFile);
  let publicKeyPem: string;
  try {
    publicKeyPem = await fs.readFile(publicKeyFile, 'utf8');
  } catch (err) {
    if (errno(err) !== 'ENOENT')
      throw new GlassesError(
        'E_BUNDLE_KEY',
        `public key ${publicKeyFile} cannot be read (${messageOf(err)})`,
        {
          details: { file: publicKeyFile },
          cause: err,
        },
      );
    await createExclusive(publicKeyFile, expected, 0o644);
    publicKeyPem = await fs.readFile(publicKeyFile, 'utf8');
  }
  // A stale public key next to a new private key would make every board refuse every bundle.
  if (publicKeyPem.trim() !== expected.trim())
    throw new GlassesError(
      'E_BUNDLE_KEY',
      `public key ${publicKeyFile} is not the public half of ${privateKeyFile}; delete it to have it rewritten`,
      { details: { file: publicKeyFile } },
    );
  return { privateKeyPem, publicKeyPem, privateKeyFile, publicKeyFile };
}

/**
 * Every regular file under `dir` but the top-level MANIFEST.json and MANIFEST.sig, sorted by path.
 * Symlinks are refused rather than followed: a link would be verified as one file and could be
 * repointed on the board without touching any checksum.
 */
export async function listBundleFiles(dir: string): Promise<{ path: string; file: string; mode: number }[]> {
  const out: { path: string; file: string; mode: number }[] = [];
  const visit = async (rel: string): Promise<void> => {
    for (const entry of await fs.readdir(join(dir, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const file = join(dir, path);
      if (entry.isDirectory()) await visit(path);
      else if (entry.isFile()) {
        if (rel === '' && (entry.name === MANIFEST_FILE || entry.name === SIGNATURE_FILE)) continue;
        out.push({ path, file, mode: (await fs.stat(file)).mode });
      } else
        throw new GlassesError(
          'E_BUNDLE_INVALID',
          `${file} is ${entry.isSymbolicLink() ? 'a symlink' : 'not a regular file'}; bundles hold regular files only`,
          { details: { file } },
        );
    }
  };
  await visit('');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Hashes every file of `dir`, writes MANIFEST.json and its signature MANIFEST.sig into it. */
export async function writeSignedManifest(
  dir: string,
  meta: { version: string; arch: BundleArch },
  privateKeyPem: string,
): Promise<BundleManifest> {
  const files: BundleFile[] = [];
  for (const f of await listBundleFiles(dir)) {
    const size = (await fs.stat(f.file)).size;
    files.push({ path: f.path, sha256: await sha256OfFile(f.file), size, mode: bundleFileMode(f.mode) });
  }
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    name: BUNDLE_NAME,
    version: meta.version,
    arch: meta.arch,
    files,
  };
  const bytes = manifestBytes(manifest);
  // Checked before signing: sign(null, …) would quietly make an RSA or ECDSA signature boards refuse.
  publicPemOf(privateKeyPem, 'given to writeSignedManifest');
  const signature = sign(null, bytes, privateKeyPem);
  await fs.writeFile(join(dir, MANIFEST_FILE), bytes, { mode: 0o644 });
  await fs.writeFile(join(dir, SIGNATURE_FILE), `${signature.toString('base64')}\n`, { mode: 0o644 });
  return manifest;
}
