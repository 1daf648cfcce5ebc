/** `glasses flash` command-line checks, before any board is contacted. */
import { mkdtempSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadOrCreateKeyPair, writeSignedManifest } from '../../../firmware-ts/src/bundle/manifest.js';
import { packBundle } from '../../../firmware-ts/src/bundle/pack.js';
import { defaultBundles, flashCommand } from '../../../firmware-ts/src/commands/flash.js';
import { BUNDLES_DIR, PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';
import { isGlassesError } from '../../../firmware-ts/src/errors.js';

async function usageError(argv: string[]): Promise<string> {
  try {
    await flashCommand.run({ argv, out: () => undefined });
  } catch (err) {
    if (isGlassesError(err, 'E_USAGE')) return err.message;
    throw err;
  }
  throw new Error('expected E_USAGE');
}

describe('the bundles glasses flash takes by default', () => {
  it('are the ones glasses build writes, in bundles/ (not dist/, where the compiled runtime lives)', async () => {
    expect(BUNDLES_DIR).toBe(join(PACKAGE_ROOT, 'bundles'));
    const dir = mkdtempSync(join(tmpdir(), 'glasses-flash-default-'));
    const none = await defaultBundles(dir).catch((e: unknown) => e);
    expect(isGlassesError(none, 'E_USAGE')).toBe(true);
    expect((none as Error).message).toContain(`no glasses-*-linux-*.tar.gz in ${dir}`);
    await fs.writeFile(join(dir, 'glasses-1.0.0-linux-arm64.tar.gz'), '');
    await fs.writeFile(join(dir, 'notes.txt'), '');
    expect(await defaultBundles(dir)).toEqual([join(dir, 'glasses-1.0.0-linux-arm64.tar.gz')]);
  });

  it('are one per architecture when glasses build made both: each board gets its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glasses-flash-default-'));
    await fs.writeFile(join(dir, 'glasses-1.0.0-linux-arm64.tar.gz'), '');
    await fs.writeFile(join(dir, 'glasses-1.0.0-linux-x64.tar.gz'), '');
    expect(await defaultBundles(dir)).toEqual([
      join(dir, 'glasses-1.0.0-linux-arm64.tar.gz'),
      join(dir, 'glasses-1.0.0-linux-x64.tar.gz'),
    ]);
    // Two of one architecture: which one the boards should get is the person's choice.
    await fs.writeFile(join(dir, 'glasses-1.1.0-linux-arm64.tar.gz'), '');
    const several = await defaultBundles(dir).catch((e: unknown) => e);
    expect(isGlassesError(several, 'E_USAGE')).toBe(true);
    expect((several as Error).message).toContain(
      `several arm64 bundles in ${dir} (glasses-1.0.0-linux-arm64.tar.gz, glasses-1.1.0-linux-arm64.tar.gz)`,
    );
  });
});

describe('glasses flash arguments', () => {
  it('prints its usage with --help', async () => {
    const lines: string[] = [];
    expect(await flashCommand.run({ argv: ['--help'], out: (l) => lines.push(l) })).toBe(0);
    expect(lines.join('\n')).toMatch(/^Usage: glasses flash --board USER@HOST\[:PORT\]/);
    for (const flag of ['--provision-key', '--restart-cmd', '--health-timeout-s', '--json', '--ssh-option'])
      expect(lines.join('\n')).toContain(flag);
  });

  it.each([
    [[], /at least one --board/],
    [['--board', 'pi@a', '--board', 'pi@a'], /given twice/],
    [['--board', 'pi@a:99999'], /port "99999"/],
    [['--board', 'pi@a', '--health-timeout-s', 'soon'], /--health-timeout-s soon: expected a number/],
    [['--board', 'pi@a', '--parallel', '0'], /--parallel 0: expected a whole number from 1/],
    [['--board', 'pi@a', '--board-root', 'opt/glasses'], /absolute/],
    [['--board', 'pi@a', '--health-file', 'health.json'], /absolute/],
    [['--board', 'pi@a', '--bogus'], /bogus/],
    [['--board', 'pi@a', '-p', '0'], /--port 0/],
  ])('refuses %j', async (argv, why) => {
    expect(await usageError(argv)).toMatch(why);
  });

  it('will not provision a key the bundle is not signed with, and contacts no board', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glasses-flash-cmd-'));
    const src = join(dir, 'src');
    await fs.mkdir(src);
    await fs.writeFile(join(src, 'runtime.mjs'), '');
    const signer = await loadOrCreateKeyPair(join(dir, 'signer'));
    const stranger = await loadOrCreateKeyPair(join(dir, 'stranger'));
    await writeSignedManifest(src, { version: '1.0.0', arch: 'arm64' }, signer.privateKeyPem);
    const file = join(dir, 'glasses-1.0.0-linux-arm64.tar.gz');
    await packBundle(src, 'glasses-1.0.0-linux-arm64', file);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const run = flashCommand.run({
        // Port 1 on loopback: nothing listens, so reaching a board would fail differently.
        argv: [
          '--board',
          'pi@127.0.0.1:1',
          '--bundle',
          file,
          '--provision-key',
          '--public-key',
          stranger.publicKeyFile,
        ],
        out: () => undefined,
      });
      await expect(run).rejects.toMatchObject({
        code: 'E_FLASH_KEY',
        message: `${file} is not signed with the key in ${stranger.publicKeyFile}; boards given that key would refuse it`,
      });
      const said = stderr.mock.calls.map((c) => String(c[0])).join('');
      expect(said).not.toContain('connecting');
    } finally {
      stderr.mockRestore();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
