import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isGlassesError } from '../../../firmware-ts/src/errors.js';
import {
  findModel,
  loadManifest,
  verifiedModelPath,
  type ModelEntry,
} from '../../../firmware-ts/src/models/manifest.js';
import { PACKAGE_ROOT, PACKAGE_VERSION } from '../../../firmware-ts/src/paths.js';

function setup(content: Buffer): { dir: string; entry: ModelEntry } {
  const dir = mkdtempSync(join(tmpdir(), 'models-'));
  writeFileSync(join(dir, 'head.onnx'), content);
  const entry: ModelEntry = {
    name: 'head',
    kind: 'wake-head',
    file: 'head.onnx',
    source: { package: 'pkg', version: '1.0.0', path: 'models/head.onnx' },
    sha256: createHash('sha256').update(content).digest('hex'),
    bytes: content.length,
    licence: 'MIT',
    inputs: [],
    outputs: [],
  };
  return { dir, entry };
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isGlassesError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected an error');
}

describe('models manifest', () => {
  it('accepts a file that matches', async () => {
    const { dir, entry } = setup(Buffer.from('model bytes'));
    expect(await verifiedModelPath(dir, entry)).toBe(join(dir, 'head.onnx'));
  });

  it('refuses a truncated file, naming it', async () => {
    const { dir, entry } = setup(Buffer.from('model bytes'));
    writeFileSync(join(dir, 'head.onnx'), 'model');
    const e = await codeOf(verifiedModelPath(dir, entry));
    expect(e.code).toBe('E_MODEL_CHECKSUM');
    expect(e.message).toContain(join(dir, 'head.onnx'));
    expect(e.message).toContain('truncated');
  });

  it('refuses a replaced file of the same size', async () => {
    const { dir, entry } = setup(Buffer.from('model bytes'));
    writeFileSync(join(dir, 'head.onnx'), 'MODEL BYTES');
    expect(await codeOf(verifiedModelPath(dir, entry))).toMatchObject({ code: 'E_MODEL_CHECKSUM' });
  });

  it('reports a missing file with how to get it', async () => {
    const { dir, entry } = setup(Buffer.from('x'));
    const e = await codeOf(verifiedModelPath(dir, { ...entry, file: 'gone.onnx' }));
    expect(e.code).toBe('E_MODEL_MISSING');
    expect(e.message).toContain('npm run models');
  });

  it("suggests git only for the checkout's own models folder; elsewhere it says what to copy where", async () => {
    const { dir, entry } = setup(Buffer.from('model bytes'));
    const own = {
      ...entry,
      source: { package: 'glasses-runtime', version: '0.1.0', path: 'models/head.onnx' },
    };
    writeFileSync(join(dir, 'head.onnx'), 'MODEL BYTES');
    const outside = await codeOf(verifiedModelPath(dir, own));
    expect(outside.code).toBe('E_MODEL_CHECKSUM');
    expect(outside.message).not.toContain('git checkout');
    expect(outside.message).toContain(`copy models/head.onnx of version ${PACKAGE_VERSION}`);
    expect(outside.message).toContain(`into ${dir}`);
    const fetched = await codeOf(verifiedModelPath(dir, { ...entry, file: 'gone.onnx' }));
    expect(fetched.message).toContain(`copy models/gone.onnx into ${dir}`);
    const inCheckout = await codeOf(
      verifiedModelPath(join(PACKAGE_ROOT, 'models'), { ...own, file: 'no-such-head.onnx' }),
    );
    expect(inCheckout.code).toBe('E_MODEL_MISSING');
    expect(inCheckout.message).toContain('git checkout -- models/head.onnx');
  });

  it('the committed manifest names source package, licence and sha256 for every model', async () => {
    const m = await loadManifest(join(PACKAGE_ROOT, 'models'));
    expect(m.models.length).toBeGreaterThanOrEqual(7);
    for (const e of m.models) {
      expect(e.source.package).not.toBe('');
      expect(e.licence).not.toBe('');
    }
    expect(findModel(m, 'hey_jarvis', 'wake-head').licence).toBe('CC-BY-NC-SA-4.0');
    await expect(
      codeOf(Promise.resolve().then(() => findModel(m, 'hey_nobody', 'wake-head'))),
    ).resolves.toMatchObject({
      code: 'E_MODEL_UNKNOWN',
    });
  });

  it('refuses a malformed manifest, naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'models-'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ models: [{ name: 'x' }] }));
    const e = await codeOf(loadManifest(dir));
    expect(e.code).toBe('E_MODEL_MANIFEST');
    expect(e.message).toContain('models.0');
  });
});
