/**
 * verify.ts as a board runs it: compiled to one file, piped to `node --input-type=module -` or run as
 * `node verify.js`, with nothing but Node. The file is transpiled here (not taken from dist/, which may
 * be stale); the integration test runs the copy inside a real bundle.
 */
import { execFile } from 'node:child_process';
import { sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadOrCreateKeyPair,
  manifestBytes,
  writeSignedManifest,
  type BundleManifest,
} from '../../../firmware-ts/src/bundle/manifest.js';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';
import { makeTree, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

const SOURCE = join(PACKAGE_ROOT, 'firmware-ts', 'src', 'bundle', 'verify.ts');

function node(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, args, { cwd: tempDir() }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : Number(err.code ?? -1), stdout, stderr });
    });
    child.stdin?.end(stdin ?? '');
  });
}

describe('the standalone verifier', () => {
  let js: string;
  let jsFile: string;
  let dir: string;
  let pubFile: string;
  let privateKeyPem: string;

  beforeAll(async () => {
    js = ts.transpileModule(readFileSync(SOURCE, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const base = tempDir();
    jsFile = join(base, 'verify.js');
    writeFileSync(jsFile, js);
    dir = join(base, 'glasses-1.0.0-linux-arm64');
    makeTree(dir);
    const keys = await loadOrCreateKeyPair(join(base, 'keys'));
    pubFile = keys.publicKeyFile;
    privateKeyPem = keys.privateKeyPem;
    await writeSignedManifest(dir, { version: '1.0.0', arch: 'arm64' }, privateKeyPem);
  });

  it('imports node: built-ins only, so it runs alone on a board', () => {
    const specifiers = [...js.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/gm)].map(
      (m) => m[1],
    );
    expect(specifiers.length).toBeGreaterThan(0);
    for (const s of specifiers) expect(s).toMatch(/^node:/);
    expect(js).not.toMatch(/\bimport\s*\(|\brequire\s*\(/);
  });

  it('piped to `node --input-type=module -`: prints ok and exits 0', async () => {
    const r = await node(['--input-type=module', '-', dir, pubFile], js);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, version: '1.0.0', arch: 'arm64', files: 5 });
    expect(r.stdout.split('\n')).toHaveLength(2); // one line
  });

  it('as `node verify.js <dir> <pub>`: the same', async () => {
    const r = await node([jsFile, dir, pubFile]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, files: 5 });
  });

  it('exits 1 with the reason when a file is changed, either way it is run', async () => {
    const other = join(tempDir(), 'b');
    makeTree(other);
    await writeSignedManifest(other, { version: '1.0.0', arch: 'arm64' }, privateKeyPem);
    writeFileSync(join(other, 'bin', 'run.sh'), '#!/bin/sh\nrm -rf /\n');
    for (const r of [
      await node(['--input-type=module', '-', other, pubFile], js),
      await node([jsFile, other, pubFile]),
    ]) {
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toEqual({
        ok: false,
        error: expect.stringMatching(/^bin\/run\.sh /) as string,
      });
    }
  });

  it('exits 1 on wrong usage or an unreadable key, still printing one JSON line', async () => {
    const usage = await node(['--input-type=module', '-', dir], js);
    expect(usage.code).toBe(1);
    expect(JSON.parse(usage.stdout)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/usage/) as string,
    });
    const nokey = await node([jsFile, dir, join(dir, 'nope.pem')]);
    expect(nokey.code).toBe(1);
    expect(JSON.parse(nokey.stdout)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/nope\.pem/) as string,
    });
  });

  it('refuses a validly signed manifest whose paths leave the bundle', async () => {
    const evil = join(tempDir(), 'evil');
    makeTree(evil);
    const manifest: BundleManifest = {
      format: 1,
      name: 'glasses-runtime',
      version: '1.0.0',
      arch: 'arm64',
      files: [{ path: '../escape.js', sha256: 'a'.repeat(64), size: 1, mode: '644' }],
    };
    const bytes = manifestBytes(manifest);
    writeFileSync(join(evil, 'MANIFEST.json'), bytes);
    writeFileSync(join(evil, 'MANIFEST.sig'), `${sign(null, bytes, privateKeyPem).toString('base64')}\n`);
    const r = await node([jsFile, evil, pubFile]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      error: expect.stringMatching(/unsafe path "\.\.\/escape\.js"/) as string,
    });
  });

  it('does nothing when imported as a module (no output, no exit code)', async () => {
    const importer = `import(${JSON.stringify(`file://${jsFile}`)}).then((m) => console.log(typeof m.verifyBundleDir, process.exitCode));`;
    const r = await node(['--input-type=module', '-e', importer]);
    expect(r.stdout.trim()).toBe('function undefined');
  });
});
