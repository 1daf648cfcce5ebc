/** buildBundle's early refusals, which come before any compiling or npm: no half-built bundle. */
import { cpSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBundle, isNonCommercial } from '../../../firmware-ts/src/bundle/build.js';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';
import { removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

/** A checkout with the real package files and models, node_modules linked. */
function checkout(): string {
  const root = join(tempDir(), 'src');
  for (const p of ['package.json', 'package-lock.json', 'firmware-ts/assets', 'models'])
    cpSync(join(PACKAGE_ROOT, p), join(root, p), { recursive: true });
  symlinkSync(join(PACKAGE_ROOT, 'node_modules'), join(root, 'node_modules'));
  return root;
}

describe('buildBundle', () => {
  it('refuses a model that does not match models/manifest.json, naming it, and writes nothing', async () => {
    const root = checkout();
    const manifest = JSON.parse(readFileSync(join(root, 'models/manifest.json'), 'utf8')) as {
      models: { file: string }[];
    };
    const victim = manifest.models[0]!.file;
    const bytes = readFileSync(join(root, 'models', victim));
    bytes[100] = bytes[100]! ^ 1;
    writeFileSync(join(root, 'models', victim), bytes);
    const outDir = tempDir();
    await expect(
      buildBundle({ arch: 'arm64', root, outDir, keyDir: join(tempDir(), 'keys') }),
    ).rejects.toMatchObject({ code: 'E_MODEL_CHECKSUM', message: expect.stringContaining(victim) as string });
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('refuses a bundle whose default wake phrase it may not carry (non-commercial), and writes nothing', async () => {
    const root = checkout();
    const file = join(root, 'models/manifest.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as {
      models: { name: string; licence: string }[];
    };
    for (const m of manifest.models) if (m.name === 'hey_quark') m.licence = 'CC-BY-NC-SA-4.0';
    writeFileSync(file, JSON.stringify(manifest));
    const outDir = tempDir();
    await expect(
      buildBundle({ arch: 'arm64', root, outDir, keyDir: join(tempDir(), 'keys') }),
    ).rejects.toMatchObject({
      code: 'E_BUNDLE_BUILD',
      message: expect.stringMatching(/default wake phrase hey_quark .*--non-commercial-models/) as string,
    });
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('refuses a bundle whose default wake phrase has no model, saying so rather than blaming a licence', async () => {
    const root = checkout();
    const file = join(root, 'models/manifest.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { models: { name: string }[] };
    manifest.models = manifest.models.filter((m) => m.name !== 'hey_quark');
    writeFileSync(file, JSON.stringify(manifest));
    const outDir = tempDir();
    const err: unknown = await buildBundle({
      arch: 'arm64',
      root,
      outDir,
      keyDir: join(tempDir(), 'keys'),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      code: 'E_BUNDLE_BUILD',
      message: expect.stringMatching(
        /default wake phrase hey_quark has no model in .*models\/manifest\.json/,
      ) as string,
    });
    expect((err as Error).message).not.toContain('non-commercial');
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('tells non-commercial licences from the others', () => {
    for (const licence of ['CC-BY-NC-SA-4.0', 'CC-BY-NC-4.0', 'cc-by-nc-nd-4.0'])
      expect(isNonCommercial({ licence }), licence).toBe(true);
    for (const licence of ['Apache-2.0', 'MIT', 'UNLICENSED', 'CC-BY-SA-4.0', 'LicenseRef-NCSA'])
      expect(isNonCommercial({ licence }), licence).toBe(false);
  });

  it('refuses an unknown arch from an untyped caller', async () => {
    await expect(buildBundle({ arch: 'riscv64' as 'x64', outDir: tempDir() })).rejects.toMatchObject({
      code: 'E_BUNDLE_BUILD',
    });
  });
});
