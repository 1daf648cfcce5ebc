import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { forEachImage } from '../../../firmware-ts/src/commands/images.js';

describe('forEachImage --draw', () => {
  it('names a --draw file whose folder is missing with a code, and still looks at every image', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'images-'));
    const image = join(dir, 'red.png');
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c00' } })
      .png()
      .toFile(image);
    const lines: string[] = [];
    const log = pino({ level: 'error' }, { write: (l: string) => void lines.push(l) });
    const seen: string[] = [];
    const out = join(dir, 'missing', 'out.png');
    const code = await forEachImage([image, image], log, out, (_frame, file) => {
      seen.push(file);
      return Promise.resolve([{ box: [1, 1, 20, 20], label: 'box' }]);
    });
    expect(code).toBe(1);
    expect(seen).toEqual([image, image]);
    const errors = lines.map((l) => JSON.parse(l) as { code?: string; msg: string });
    expect(errors[0]).toMatchObject({ code: 'E_OUTPUT_FILE' });
    expect(errors[0]?.msg).toContain(
      `picture ${join(dir, 'missing', 'out-red.png')}: cannot write it (its folder ${join(dir, 'missing')} does not exist)`,
    );
    expect(readdirSync(dir)).toEqual(['red.png']);

    const written = join(dir, 'out.png');
    expect(await forEachImage([image], log, written, () => Promise.resolve([]))).toBe(0);
    expect((await sharp(written).metadata()).format).toBe('png');
  });
});
