/**
 * The board-side check of an unpacked bundle: the ed25519 signature over MANIFEST.json, then the size
 * and sha256 of every listed file, then that nothing unlisted (file, symlink, device) is present.
 *
 * This file imports only node: built-ins and nothing relative, so its compiled form can be piped to a
 * board that has nothing but Node and run there before the bundle is trusted:
 *   node --input-type=module - <bundle-dir> <public-key.pem> < verify.js
 *   node verify.js <bundle-dir> <public-key.pem>
 * It prints one JSON line and exits 0 (ok) or 1 (refused). The bundle format lives here for the same
 * reason; manifest.ts (which writes it) re-exports it.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BUNDLE_FORMAT = 1;
export const BUNDLE_NAME = 'glasses-runtime';
export const MANIFEST_FILE = 'MANIFEST.json';
export const SIGNATURE_FILE = 'MANIFEST.sig';

export type BundleArch = 'arm64' | 'x64';
export type BundleFileMode = '644' | '755';

export interface BundleFile {
  /** Relative POSIX path inside the bundle's top folder. */
  path: string;
  sha256: string;
  size: number;
  mode: BundleFileMode;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  name: typeof BUNDLE_NAME;
  version: string;
  arch: BundleArch;
  /** Sorted by path (JavaScript string order), every regular file but MANIFEST.json and MANIFEST.sig. */
  files: BundleFile[];
}

export type VerifyResult =
  { ok: true; version: string; arch: BundleArch; files: number } | { ok: false; error: string };

/** Any execute bit makes a file 755; everything else is 644, so umask and checkout noise do not matter. */
export function bundleFileMode(statMode: number): BundleFileMode {
  return (statMode & 0o111) !== 0 ? '755' : '644';
}

/** The exact bytes that are signed and written as MANIFEST.json. */
export function manifestBytes(manifest: BundleManifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

class Refused extends Error {}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Only plain relative paths: a signed manifest must still not point outside the bundle. */
function isSafePath(p: string): boolean {
  if (p === '' || p.startsWith('/') || p.includes('\\') || p.includes('\0')) return false;
  return p.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

function parseManifest(text: string): BundleManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Refused(`${MANIFEST_FILE} is not valid JSON (${err instanceof Error ? err.message : 'parse'})`);
  }
  if (!isRecord(json)) throw new Refused(`${MANIFEST_FILE} is not a JSON object`);
  if (json.format !== BUNDLE_FORMAT)
    throw new Refused(`${MANIFEST_FILE}: unknown format ${String(json.format)}`);
  if (json.name !== BUNDLE_NAME) throw new Refused(`${MANIFEST_FILE}: name is not ${BUNDLE_NAME}`);
  if (typeof json.version !== 'string' || json.version === '')
    throw new Refused(`${MANIFEST_FILE}: version missing`);
  if (json.arch !== 'arm64' && json.arch !== 'x64')
    throw new Refused(`${MANIFEST_FILE}: arch is not arm64 or x64`);
  if (!Array.isArray(json.files)) throw new Refused(`${MANIFEST_FILE}: files is not a list`);
  const files: BundleFile[] = [];
  const seen = new Set<string>();
  for (const f of json.files as unknown[]) {
    if (
      !isRecord(f) ||
      typeof f.path !== 'string' ||
      typeof f.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(f.sha256) ||
      typeof f.size !== 'number' ||
      !Number.isSafeInteger(f.size) ||
      f.size < 0 ||
      (f.mode !== '644' && f.mode !== '755')
    )
      throw new Refused(`${MANIFEST_FILE}: malformed file entry ${JSON.stringify(f)}`);
    if (!isSafePath(f.path) || f.path === MANIFEST_FILE || f.path === SIGNATURE_FILE)
      throw new Refused(`${MANIFEST_FILE}: unsafe path ${JSON.stringify(f.path)}`);
    if (seen.has(f.path)) throw new Refused(`${MANIFEST_FILE}: ${f.path} is listed twice`);
    seen.add(f.path);
    files.push({ path: f.path, sha256: f.sha256, size: f.size, mode: f.mode });
  }
  return { format: BUNDLE_FORMAT, name: BUNDLE_NAME, version: json.version, arch: json.arch, files };
}

/** Every non-directory entry under `dir` as a relative POSIX path, with its kind. */
async function walk(dir: string, prefix = ''): Promise<{ path: string; regular: boolean }[]> {
  const out: { path: string; regular: boolean }[] = [];
  for (const entry of await fs.readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await walk(dir, rel)));
    else out.push({ path: rel, regular: entry.isFile() });
  }
  return out;
}

async function readOrRefuse(file: string, what: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    throw new Refused(`${what} ${file} cannot be read (${err instanceof Error ? err.message : String(err)})`);
  }
}

/**
 * Checks an unpacked bundle folder (the one holding MANIFEST.json) against a public key (SPKI PEM).
 * Never throws for a bad bundle: the reason is in `error`, naming the file or the signature.
 */
export async function verifyBundleDir(dir: string, publicKeyPem: string): Promise<VerifyResult> {
  try {
    let key;
    try {
      key = createPublicKey(publicKeyPem);
    } catch (err) {
      throw new Refused(
        `the public key is not a PEM key (${err instanceof Error ? err.message : String(err)})`,
      );
    }
    if (key.asymmetricKeyType !== 'ed25519')
      throw new Refused(`the public key is ${String(key.asymmetricKeyType)}, not ed25519`);
    const bytes = await readOrRefuse(join(dir, MANIFEST_FILE), 'manifest');
    const sigText = (await readOrRefuse(join(dir, SIGNATURE_FILE), 'signature')).toString('utf8').trim();
    // Buffer.from(base64) skips bad characters silently; a strict round trip refuses a mangled file.
    const signature = Buffer.from(sigText, 'base64');
    if (signature.length !== 64 || signature.toString('base64') !== sigText)
      throw new Refused(`signature ${SIGNATURE_FILE} is not a base64 ed25519 signature`);
    if (!verify(null, bytes, key, signature))
      throw new Refused(`signature ${SIGNATURE_FILE} does not match ${MANIFEST_FILE} for this public key`);

    const manifest = parseManifest(bytes.toString('utf8'));
    const listed = new Map(manifest.files.map((f) => [f.path, f]));
    for (const found of await walk(dir)) {
      if (found.path === MANIFEST_FILE || found.path === SIGNATURE_FILE) {
        if (!found.regular) throw new Refused(`${found.path} is not a regular file`);
        continue;
      }
      if (!listed.has(found.path)) throw new Refused(`${found.path} is not listed in ${MANIFEST_FILE}`);
      if (!found.regular) throw new Refused(`${found.path} is not a regular file (symlink or device)`);
    }
    for (const f of manifest.files) {
      const file = join(dir, ...f.path.split('/'));
      let size: number;
      try {
        size = (await fs.lstat(file)).size;
      } catch {
        throw new Refused(`${f.path} is listed in ${MANIFEST_FILE} but missing`);
      }
      if (size !== f.size) throw new Refused(`${f.path} is ${size} bytes, the manifest says ${f.size}`);
      if ((await sha256OfFile(file)) !== f.sha256)
        throw new Refused(`${f.path} does not match its sha256 in ${MANIFEST_FILE}`);
    }
    return { ok: true, version: manifest.version, arch: manifest.arch, files: manifest.files.length };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, error: err.message };
    return { ok: false, error: `cannot check ${dir}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** True when this module is the program: `node verify.js …` or piped as `node --input-type=module - …`. */
function isMain(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  if (script === '-') return true;
  try {
    return script === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

async function check(args: string[]): Promise<VerifyResult> {
  const [dir, keyFile] = args;
  if (dir === undefined || keyFile === undefined || args.length !== 2)
    return { ok: false, error: 'usage: node verify.js <bundle-dir> <public-key.pem>' };
  let pem: string;
  try {
    pem = await fs.readFile(keyFile, 'utf8');
  } catch (err) {
    return {
      ok: false,
      error: `public key ${keyFile} cannot be read (${err instanceof Error ? err.message : String(err)})`,
    };
  }
  return verifyBundleDir(dir, pem);
}

async function main(args: string[]): Promise<number> {
  const result = await check(args);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return result.ok ? 0 : 1;
}

if (isMain()) process.exitCode = await main(process.argv.slice(2));
