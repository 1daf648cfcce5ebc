import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage, MAX_WORKING_SIDE_PX } from '../../../firmware-ts/src/vision/frame.js';
import { BAD_FRAMES_DIR, PHOTOS_DIR } from '../../helpers/vision.js';

const bad = (name: string): { bytes: Uint8Array; file: string } => {
  const file = join(BAD_FRAMES_DIR, name);
  return { bytes: readFileSync(file), file };
};

describe('decodeImage through sharp', () => {
  it('decodes a photo to upright RGB at its own size', async () => {
    const f = await decodeImage(readFileSync(join(PHOTOS_DIR, 'fruits.jpg')), 'fruits.jpg');
    expect([f.width, f.height, f.originalWidth, f.originalHeight]).toEqual([512, 480, 512, 480]);
    expect(f.rgb.length).toBe(512 * 480 * 3);
  });

  it('turns a photo stored sideways upright by its EXIF orientation', async () => {
    const f = await decodeImage(bad('sideways-exif.jpg').bytes, 'sideways-exif.jpg');
    expect([f.width, f.height]).toEqual([512, 480]);
  });

  it('downscales an 8000x8000 picture for looking, and remembers its size', async () => {
    const f = await decodeImage(bad('huge.jpg').bytes, 'huge.jpg');
    expect([f.width, f.height]).toEqual([MAX_WORKING_SIDE_PX, MAX_WORKING_SIDE_PX]);
    expect([f.originalWidth, f.originalHeight]).toEqual([8000, 8000]);
  });

  it.each([
    ['empty.jpg', /empty \(0 bytes\)/],
    ['truncated.jpg', /cannot be decoded/],
    ['not-an-image.jpg', /cannot be decoded/],
    ['one-pixel.png', /is 1x1, too small/],
  ])('refuses %s with E_IMAGE_INVALID naming the file', async (name, why) => {
    const { bytes, file } = bad(name);
    const err = await decodeImage(bytes, file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_IMAGE_INVALID' });
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(why);
  });
});
