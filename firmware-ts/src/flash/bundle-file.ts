/**
 * The bundle tarball on the flashing machine: its size and sha256 (checked again on the board after
 * the upload), and its version, arch and top folder, read from the MANIFEST.json inside it. Nothing
 * is trusted from this read: the board verifies the signature itself.
 */
import { createHash, verify } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BUNDLE_NAME, MANIFEST_FILE, SIGNATURE_FILE, type BundleArch } from '../bundle/verify.js';
import { GlassesError } from '../errors.js';
import { isFlashError } from './errors.js';

export interface LocalBundle {
  file: string;
  bytes: number;
  sha256: string;
  version: string;
  arch: BundleArch;
  /** The one folder every entry sits under, `glasses-<version>-linux-<arch>`. */
  topName: string;
  /** What the files take unpacked (from the manifest), for the board's free-space check. */
  unpackedBytes: number;
  /** MANIFEST.json exactly as signed, and MANIFEST.sig (base64), null when the tarball has none. */
  manifestBytes: Buffer;
  signature: string | null;
  /** The bytes to upload; a fresh stream each call (tests wrap it to throttle an upload). */
  open(): Readable;
}

const BLOCK = 512;
const WANTED = [MANIFEST_FILE, SIGNATURE_FILE];

function fail(file: string, why: string, cause?: unknown): never {
  throw new GlassesError('E_FLASH_BUNDLE', `bundle ${file}: ${why}`, {
    details: { file },
    ...(cause === undefined ? {} : { cause }),
  });
}

function cString(buf: Buffer, start: number, end: number): string {
  const slice = buf.subarray(start, end);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul < 0 ? slice.length : nul).toString('utf8');
}

/**
 * Reads `<top>/MANIFEST.json` and `<top>/MANIFEST.sig` out of a gzip tarball, stopping once it has
 * both (they sort near the top, so a 100 MB bundle is rarely read far).
 */
async function manifestFromTar(
  file: string,
  signal: AbortSignal,
): Promise<{ topName: string; files: Map<string, Buffer> }> {
  const gunzip = createReadStream(file, { signal }).pipe(createGunzip());
  const files = new Map<string, Buffer>();
  let buf: Buffer = Buffer.alloc(0);
  let skip = 0;
  let want: { base: string; size: number } | undefined;
  let topName = '';
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (;;) {
        if (skip > 0) {
          const n = Math.min(skip, buf.length);
          buf = buf.subarray(n);
          skip -= n;
          if (skip > 0) break;
        }
        if (want !== undefined) {
          if (buf.length < want.size) break;
          files.set(want.base, Buffer.from(buf.subarray(0, want.size)));
          if (files.size === WANTED.length) return { topName, files };
          skip = Math.ceil(want.size / BLOCK) * BLOCK;
          want = undefined;
          continue;
        }
        if (buf.length < BLOCK) break;
        const header = buf.subarray(0, BLOCK);
        buf = buf.subarray(BLOCK);
        if (header.every((b) => b === 0)) return { topName, files }; // end of archive
        const prefix = cString(header, 345, 500);
        const base = cString(header, 0, 100);
        const name = prefix === '' ? base : `${prefix}/${base}`;
        const size = parseInt(cString(header, 124, 136).trim() || '0', 8);
        if (!Number.isSafeInteger(size) || size < 0) fail(file, `bad tar header at "${name}"`);
        const type = String.fromCharCode(header[156] ?? 0);
        // pax and GNU long-name records describe the next entry; their names are not paths.
        if (type !== 'x' && type !== 'g' && type !== 'L' && type !== 'K') {
          if (topName === '') topName = name.split('/')[0] ?? '';
          const wanted = WANTED.find((w) => name === `${topName}/${w}`);
          if (wanted !== undefined && (type === '0' || type === '\0')) {
            want = { base: wanted, size };
            continue;
          }
        }
        skip = Math.ceil(size / BLOCK) * BLOCK;
      }
    }
  } catch (err) {
    if (isFlashError(err)) throw err;
    if (signal.aborted) throw new GlassesError('E_FLASH_ABORTED', `reading ${file} was interrupted`);
    fail(file, `not a readable .tar.gz (${err instanceof Error ? err.message : String(err)})`, err);
  } finally {
    gunzip.destroy();
  }
  return { topName, files };
}

async function sha256Of(file: string, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { signal }) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

export async function readLocalBundle(file: string, signal: AbortSignal): Promise<LocalBundle> {
  let bytes: number;
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) fail(file, 'not a regular file');
    bytes = stat.size;
  } catch (err) {
    if (isFlashError(err)) throw err;
    fail(file, `cannot be read (${err instanceof Error ? err.message : String(err)})`, err);
  }
  const found = await manifestFromTar(file, signal);
  const manifestBytes = found.files.get(MANIFEST_FILE);
  if (manifestBytes === undefined)
    fail(file, `no <top folder>/${MANIFEST_FILE} inside; is it a glasses bundle?`);
  let manifest: unknown;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8'));
  } catch (err) {
    fail(file, `${found.topName}/${MANIFEST_FILE} is not JSON`, err);
  }
  const m = manifest as { name?: unknown; version?: unknown; arch?: unknown; files?: unknown };
  if (m.name !== BUNDLE_NAME) fail(file, `${MANIFEST_FILE} does not name ${BUNDLE_NAME}`);
  if (typeof m.version !== 'string' || m.version === '') fail(file, `${MANIFEST_FILE} has no version`);
  if (m.arch !== 'arm64' && m.arch !== 'x64') fail(file, `${MANIFEST_FILE} arch is not arm64 or x64`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(found.topName))
    fail(file, `its top folder "${found.topName}" is not one plain name`);
  const unpackedBytes = Array.isArray(m.files)
    ? m.files.reduce<number>((sum, f) => sum + (Number((f as { size?: unknown }).size) || 0), 0)
    : 0;
  const sha256 = await sha256Of(file, signal);
  return {
    file,
    bytes,
    sha256,
    version: m.version,
    arch: m.arch,
    topName: found.topName,
    unpackedBytes,
    manifestBytes,
    signature: found.files.get(SIGNATURE_FILE)?.toString('utf8').trim() ?? null,
    open: () => createReadStream(file),
  };
}

/**
 * Whether the bundle's manifest signature checks out with `publicKeyPem`: a quick check here, so that
 * --provision-key does not install a key that would make the board refuse this very bundle. The
 * board still verifies everything itself.
 */
export function signedBy(bundle: LocalBundle, publicKeyPem: string): boolean {
  if (bundle.signature === null) return false;
  try {
    return verify(null, bundle.manifestBytes, publicKeyPem, Buffer.from(bundle.signature, 'base64'));
  } catch {
    return false;
  }
}
