/** The picture that may go with a question about what the wearer sees: small, capped, without metadata. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodePreview } from '../../../firmware-ts/src/vision/frame.js';
import { BAD_FRAMES_DIR, PHOTOS_DIR } from '../../helpers/vision.js';

describe('encodePreview', () => {
  it('downscales a photo to the longest side asked, under the byte cap, as a JPEG with no EXIF', async () => {
    // A JPEG with EXIF (camera, GPS) as a phone or the glasses' camera would write it.
    const photo = await sharp(readFileSync(join(PHOTOS_DIR, 'fruits.jpg')))
      .withExif({ IFD0: { Make: 'GlassesCam', Model: 'serial-1234' } })
      .jpeg()
      .toBuffer();
    expect((await sharp(photo).metadata()).exif).toBeDefined();
    const jpeg = await encodePreview(photo, 'fruits.jpg', { maxSidePx: 256, maxBytes: 150_000 });
    expect(jpeg).toBeDefined();
    const meta = await sharp(jpeg).metadata();
    expect(meta.format).toBe('jpeg');
    expect(Math.max(meta.width, meta.height)).toBe(256);
    expect(meta.exif).toBeUndefined();
    expect(jpeg?.byteLength).toBeLessThanOrEqual(150_000);
  });

  it('steps the quality down to fit the cap, and gives nothing when even the lowest does not fit', async () => {
    const photo = readFileSync(join(PHOTOS_DIR, 'baboon.jpg'));
    const roomy = await encodePreview(photo, 'baboon.jpg', { maxSidePx: 512, maxBytes: 2_000_000 });
    const tight = await encodePreview(photo, 'baboon.jpg', {
      maxSidePx: 512,
      maxBytes: (roomy?.byteLength ?? 0) * 0.6,
    });
    expect(tight).toBeDefined();
    expect(tight?.byteLength).toBeLessThan((roomy?.byteLength ?? 0) * 0.6);
    expect(await encodePreview(photo, 'baboon.jpg', { maxSidePx: 512, maxBytes: 1000 })).toBeUndefined();
  });

  it('names the file it cannot encode', async () => {
    const bad = readFileSync(join(BAD_FRAMES_DIR, 'truncated.jpg'));
    await expect(encodePreview(bad, 'truncated.jpg', { maxSidePx: 640, maxBytes: 150_000 })).rejects.toThrow(
      /truncated\.jpg/,
    );
  });
});
