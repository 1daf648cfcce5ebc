/**
 * `npm run build` leaves the `glasses` bin executable even when tsc writes cli.js anew: after
 * `rm -rf dist`, a build that was only tsc gave a 0644 cli.js and `npx glasses` said "Permission
 * denied". Run on a copy of the package whose build compiles a one-line cli.ts, with the real
 * package.json's build script and bin.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';

const run = promisify(execFile);

describe('npm run build', () => {
  let dir: string;
  let bin: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'glasses-build-bin-'));
    const pkg = JSON.parse(await fs.readFile(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    bin = pkg.bin.glasses ?? '';
    expect(bin).toBe('dist/firmware-ts/src/cli.js');
    await fs.copyFile(join(PACKAGE_ROOT, 'package.json'), join(dir, 'package.json'));
    await fs.mkdir(join(dir, 'scripts'));
    await fs.copyFile(
      join(PACKAGE_ROOT, 'scripts', 'bin-executable.ts'),
      join(dir, 'scripts', 'bin-executable.ts'),
    );
    await fs.mkdir(join(dir, 'firmware-ts', 'src'), { recursive: true });
    await fs.writeFile(
      join(dir, 'firmware-ts', 'src', 'cli.ts'),
      "#!/usr/bin/env node\nconsole.log('glasses from a fresh build');\n",
    );
    await fs.writeFile(
      join(dir, 'tsconfig.build.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', target: 'ES2022', outDir: 'dist', rootDir: '.', types: [] },
        files: ['firmware-ts/src/cli.ts'],
      }),
    );
    await fs.symlink(join(PACKAGE_ROOT, 'node_modules'), join(dir, 'node_modules'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('leaves a freshly written bin executable, so it runs as a command', async () => {
    await run('npm', ['run', 'build'], { cwd: dir });
    const { mode } = await fs.stat(join(dir, bin));
    expect((mode & 0o111).toString(8)).toBe('111');
    // What npx does once it has linked the bin: run the file itself, which needs the execute bit.
    const { stdout } = await run(join(dir, bin), [], { cwd: dir });
    expect(stdout.trim()).toBe('glasses from a fresh build');
  });
});
