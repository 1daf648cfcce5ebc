/**
 * The ShellBoard's scripts run by the local sh (no ssh): the refusals a board makes before anything
 * is uploaded or switched, and how each maps to an error code. Whole flashes over ssh are in
 * test/integration/flash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isFlashError } from '../../../firmware-ts/src/flash/errors.js';
import { ShellBoard } from '../../../firmware-ts/src/flash/shell-board.js';
import { bundle, KEY } from './fake-board.js';
import { LocalShell } from './local-shell.js';

function boardAt(root: string, node = process.execPath): ShellBoard {
  return new ShellBoard({
    shell: new LocalShell(),
    root,
    node,
    healthFile: join(root, 'health.json'),
    restartCmd: 'true',
  });
}

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isFlashError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a FlashError');
}

const signal = (): AbortSignal => AbortSignal.timeout(30_000);
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await fs.rm(r, { recursive: true, force: true });
});

async function root(): Promise<string> {
  const r = mkdtempSync(join(tmpdir(), 'glasses-shellboard-'));
  roots.push(r);
  await fs.mkdir(join(r, 'slots', 'a'), { recursive: true });
  await fs.writeFile(join(r, 'slots', 'a', 'MANIFEST.json'), '{"version":"1.0.0"}');
  await fs.symlink('slots/a', join(r, 'current'));
  await fs.mkdir(join(r, 'keys'));
  await fs.writeFile(join(r, 'keys', 'bundle.pub.pem'), KEY);
  return r;
}

describe('ShellBoard scripts', () => {
  it('inspects a board: arch, slots, the active one, the trusted key', async () => {
    const r = await root();
    const info = await boardAt(r).inspect(signal());
    expect(info).toMatchObject({
      arch: process.arch,
      nodeVersion: process.version,
      rootWritable: true,
      current: 'a',
      currentExists: true,
      slots: { a: { version: '1.0.0' }, b: null },
      trustedKeyPem: KEY,
      health: null,
    });
  });

  it('says which node is missing', async () => {
    const e = await rejection(boardAt(await root(), '/nonexistent/node').inspect(signal()));
    expect(e.code).toBe('E_FLASH_BOARD');
    expect(e.message).toMatch(/no node at '\/nonexistent\/node'.*--node/);
  });

  it('never writes into the active slot', async () => {
    const e = await rejection(boardAt(await root()).receive('a', bundle(), () => undefined, signal()));
    expect(e.code).toBe('E_FLASH_BOARD');
    expect(e.message).toMatch(/slot a is the active one/);
  });

  it('refuses a board without a trusted key before taking the upload', async () => {
    const r = await root();
    await fs.rm(join(r, 'keys'), { recursive: true });
    const e = await rejection(boardAt(r).receive('b', bundle(), () => undefined, signal()));
    expect(e.code).toBe('E_FLASH_KEY');
    expect(existsSync(join(r, 'slots', 'b'))).toBe(false);
  });

  it('refuses a truncated upload and cleans it away', async () => {
    const r = await root();
    const short = { ...bundle(), bytes: 2000 };
    const e = await rejection(boardAt(r).receive('b', short, () => undefined, signal()));
    expect(e.code).toBe('E_FLASH_UPLOAD');
    expect(e.message).toMatch(/the upload is 1000 bytes, the file sent is 2000/);
    expect(existsSync(join(r, '.flash', 'incoming'))).toBe(false);
    expect(existsSync(join(r, 'slots', 'b'))).toBe(false);
  });

  it('waits for no one: a second flash of a locked board is refused at once', async () => {
    const r = await root();
    await fs.mkdir(join(r, '.flash'));
    const holder = spawn('flock', [join(r, '.flash', 'lock'), 'sleep', '30'], { stdio: 'ignore' });
    children.push(holder);
    // flock creates the file once it holds the lock.
    while (!existsSync(join(r, '.flash', 'lock'))) await sleep(10);
    await sleep(100);
    const e = await rejection(boardAt(r).receive('b', bundle(), () => undefined, signal()));
    expect(e.code).toBe('E_FLASH_BOARD');
    expect(e.message).toMatch(/another flash is running/);
  });

  it('never replaces a key the board already trusts', async () => {
    const r = await root();
    const e = await rejection(boardAt(r).provisionKey(KEY.replace('test', 'evil'), signal()));
    expect(e.code).toBe('E_FLASH_KEY');
    expect(await fs.readFile(join(r, 'keys', 'bundle.pub.pem'), 'utf8')).toBe(KEY);

    await fs.rm(join(r, 'keys'), { recursive: true });
    await boardAt(r).provisionKey(KEY, signal());
    expect(await fs.readFile(join(r, 'keys', 'bundle.pub.pem'), 'utf8')).toBe(KEY);
  });

  it('follows a switch the board never started as not-started', async () => {
    const result = await boardAt(await root()).follow('nope', 0, () => undefined, signal());
    expect(result.result).toBe('not-started');
  });
});
