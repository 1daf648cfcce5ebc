/** `glasses build` on a wrong command line or outside a source checkout: refused before any work. */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { buildCommand } from '../../../firmware-ts/src/commands/build.js';
import { removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('glasses build', () => {
  it.each([[[]], [['--arch', 'sparc']], [['--arch', 'x64', 'extra']], [['--arch', 'x64', '--bogus']]])(
    'refuses %j as a usage error',
    async (argv) => {
      await expect(buildCommand.run({ argv, out: () => undefined })).rejects.toMatchObject({
        code: 'E_USAGE',
      });
    },
  );

  it('prints its usage with --help', async () => {
    const lines: string[] = [];
    expect(await buildCommand.run({ argv: ['--help'], out: (l) => lines.push(l) })).toBe(0);
    expect(lines.join('\n')).toMatch(/--arch arm64\|x64/);
  });

  it('fails with E_BUNDLE_BUILD naming what is missing when --root is not a source checkout', async () => {
    const root = tempDir();
    const out: string[] = [];
    const run = buildCommand.run({
      argv: ['--arch', 'arm64', '--root', root, '--log-level', 'silent'],
      out: (l) => out.push(l),
    });
    await expect(run).rejects.toMatchObject({
      code: 'E_BUNDLE_BUILD',
      message: expect.stringMatching(/is not a source checkout .*package-lock\.json/) as string,
    });
    await expect(run).rejects.toThrow(root);
    expect(out).toEqual([]);
  });
});
