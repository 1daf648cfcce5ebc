/**
 * Runs ON THE BOARD, piped to `node --input-type=module - <root> <health-file>` before a flash: what
 * the board runs and holds, as one JSON line. It imports only node: built-ins and nothing relative,
 * because only its text travels (flash/scripts.ts loads it). Versions read here are informational:
 * nothing in a slot is trusted until the verifier has checked it.
 */
import { accessSync, constants, existsSync, readFileSync, readlinkSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';

type Slot = 'a' | 'b';

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function slotVersion(root: string, slot: Slot): { version: string | null } | null {
  const dir = join(root, 'slots', slot);
  if (!existsSync(dir)) return null;
  const manifest = readJson(join(dir, 'MANIFEST.json')) as { version?: unknown } | null;
  return { version: typeof manifest?.version === 'string' ? manifest.version : null };
}

function currentSlot(root: string): { slot: Slot | null; link: string | null } {
  let link: string;
  try {
    link = readlinkSync(join(root, 'current'));
  } catch {
    return { slot: null, link: null };
  }
  const slot = /(?:^|\/)slots\/([ab])\/?$/.exec(link)?.[1];
  return { slot: slot === 'a' || slot === 'b' ? slot : null, link };
}

function writable(path: string): boolean {
  // The root may not exist yet on a first flash; then its nearest existing parent decides.
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  try {
    accessSync(p, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function freeBytes(path: string): number | null {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  try {
    const s = statfsSync(p);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

const [root, healthFile] = process.argv.slice(2);
if (root === undefined || healthFile === undefined) {
  process.stderr.write('usage: inspect <root> <health-file>\n');
  process.exit(2);
}
const current = currentSlot(root);
let trustedKeyPem: string | null;
try {
  trustedKeyPem = readFileSync(join(root, 'keys', 'bundle.pub.pem'), 'utf8');
} catch {
  trustedKeyPem = null;
}
process.stdout.write(
  `${JSON.stringify({
    arch: process.arch,
    nodeVersion: process.version,
    rootExists: existsSync(root),
    rootWritable: writable(root),
    freeBytes: freeBytes(root),
    current: current.slot,
    currentLink: current.link,
    currentExists: existsSync(join(root, 'current')),
    slots: { a: slotVersion(root, 'a'), b: slotVersion(root, 'b') },
    trustedKeyPem,
    health: readJson(healthFile),
  })}\n`,
);
