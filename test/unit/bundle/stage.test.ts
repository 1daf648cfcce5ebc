/** The parts of staging that need no npm: the shipped package.json and the ELF machine check. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { elfMachine, ELF_MACHINE } from '../../../firmware-ts/src/bundle/elf.js';
import { bundlePackageJson, foreignBinaries } from '../../../firmware-ts/src/bundle/stage.js';
import { removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

/** The first 20 bytes of an ELF64 little-endian file for `machine`. */
function elfHeader(machine: number): Buffer {
  const h = Buffer.alloc(64);
  h.write('\x7fELF', 0, 'latin1');
  h[4] = 2; // ELFCLASS64
  h[5] = 1; // little-endian
  h.writeUInt16LE(machine, 18);
  return h;
}

describe('bundlePackageJson', () => {
  it('keeps the name (paths.ts finds the root by it), drops dev tooling and tfjs-node', () => {
    const out = bundlePackageJson({
      name: 'glasses-runtime',
      version: '0.1.0',
      type: 'module',
      bin: { glasses: 'dist/firmware-ts/src/cli.js' },
      scripts: { build: 'tsc', prepare: 'npm run build', test: 'vitest' },
      dependencies: { sharp: '^0.35.5' },
      devDependencies: { typescript: '^6' },
      optionalDependencies: { '@tensorflow/tfjs-node': '^4.22.0' },
    });
    expect(out).toEqual({
      name: 'glasses-runtime',
      version: '0.1.0',
      type: 'module',
      bin: { glasses: 'dist/firmware-ts/src/cli.js' },
      scripts: { start: 'node dist/firmware-ts/src/cli.js run' },
      dependencies: { sharp: '^0.35.5' },
    });
  });
});

describe('elfMachine and foreignBinaries', () => {
  it('reads e_machine and finds binaries built for another machine', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    writeFileSync(join(dir, 'a', 'arm.node'), elfHeader(ELF_MACHINE.arm64));
    writeFileSync(join(dir, 'a', 'b', 'x86.so.1'), elfHeader(ELF_MACHINE.x64));
    writeFileSync(join(dir, 'script.js'), 'console.log(1)');
    writeFileSync(join(dir, 'short'), '\x7fEL');
    expect(await elfMachine(join(dir, 'a', 'arm.node'))).toBe(183);
    expect(await elfMachine(join(dir, 'a', 'b', 'x86.so.1'))).toBe(62);
    expect(await elfMachine(join(dir, 'script.js'))).toBeUndefined();
    expect(await elfMachine(join(dir, 'short'))).toBeUndefined();
    expect(await foreignBinaries(dir, 'arm64')).toEqual(['a/b/x86.so.1']);
    expect(await foreignBinaries(dir, 'x64')).toEqual(['a/arm.node']);
  });
});
