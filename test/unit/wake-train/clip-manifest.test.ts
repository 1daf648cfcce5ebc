import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClipManifest } from '../../../firmware-ts/src/wake-train/clip-manifest.js';

describe('parseClipManifest', () => {
  const tsv = join('/data', 'test', 'manifest.tsv');

  it('names clips relative to the TSV, with the other columns', () => {
    const rows = parseClipManifest(
      'voice\tfile\tnoise\r\nflite-kal\tpos/a.wav\t10dB\r\n\r\nslt\tpos/b.wav\t\r\n',
      tsv,
    );
    expect([...rows]).toEqual([
      ['/data/test/pos/a.wav', { voice: 'flite-kal', noise: '10dB' }],
      ['/data/test/pos/b.wav', { voice: 'slt', noise: '' }],
    ]);
  });

  it('keeps the first row of a clip named twice, and reads no rows from a TSV without a file column', () => {
    expect(parseClipManifest('file\tvoice\na.wav\tx\na.wav\ty\n', tsv).get('/data/test/a.wav')).toEqual({
      voice: 'x',
    });
    expect(parseClipManifest('name\tvoice\na.wav\tx\n', tsv).size).toBe(0);
  });
});
