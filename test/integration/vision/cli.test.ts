/** `glasses detect` and `glasses ocr` as a developer runs them: JSON lines, --draw, bad files named. */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT, SAMPLES_DIR } from '../../../firmware-ts/src/paths.js';
import { BAD_FRAMES_DIR, PHOTOS_DIR } from '../../helpers/vision.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'firmware-ts', 'src', 'cli.js');
const out = mkdtempSync(join(tmpdir(), 'vision-cli-'));

async function glasses(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [CLI, ...args, '--log-level', 'error'], {
      timeout: 120_000,
    });
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const lines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('glasses detect', () => {
  it('prints one line per object in original pixels, and draws them', async () => {
    const image = join(PHOTOS_DIR, 'messi5.jpg');
    const drawn = join(out, 'messi.png');
    const r = await glasses(['detect', image, '--draw', drawn]);
    expect(r.code).toBe(0);
    const objects = lines(r.stdout);
    const ball = objects.find((o) => o.label === 'sports ball');
    expect(ball).toMatchObject({ file: image });
    // The ball lies at about (336, 287) in the 548x342 photo.
    const [x, y, w, h] = ball?.box as number[];
    expect(Math.abs((x ?? 0) + (w ?? 0) / 2 - 362)).toBeLessThan(20);
    expect(Math.abs((y ?? 0) + (h ?? 0) / 2 - 312)).toBeLessThan(20);
    expect(await sharp(drawn).metadata()).toMatchObject({ format: 'png', width: 548, height: 342 });
  });

  it('processes the good files, then names each bad one and exits 1', async () => {
    const bad = ['empty.jpg', 'truncated.jpg', 'one-pixel.png'].map((f) => join(BAD_FRAMES_DIR, f));
    const good = join(PHOTOS_DIR, 'fruits.jpg');
    const r = await glasses(['detect', bad[0] ?? '', good, ...bad.slice(1), '/nonexistent.jpg']);
    expect(r.code).toBe(1);
    expect(lines(r.stdout).every((o) => o.file === good)).toBe(true);
    expect(lines(r.stdout).length).toBeGreaterThan(0);
    for (const f of [...bad, '/nonexistent.jpg']) expect(r.stderr).toContain(f);
  });

  it('gives boxes of an 8000x8000 photo in its own pixels', async () => {
    const r = await glasses(['detect', join(BAD_FRAMES_DIR, 'huge.jpg')]);
    expect(r.code).toBe(0);
    const boxes = lines(r.stdout).map((o) => o.box as number[]);
    expect(Math.max(...boxes.map((b) => (b[0] ?? 0) + (b[2] ?? 0)))).toBeGreaterThan(4000);
  });
});

describe('glasses ocr', () => {
  it('reads the label in reading order and draws the lines', async () => {
    const tag = join(SAMPLES_DIR, 'camera', '2-price-tag.jpg');
    const r = await glasses(['ocr', tag, '--draw', join(out, 'tag.png')]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map((l) => String(l.text).normalize('NFKC'))).toEqual(['Red apples', '¥12.50']);
    expect(await sharp(join(out, 'tag.png')).metadata()).toMatchObject({ format: 'png' });
  });
});
