/**
 * Builds the vision test fixtures in test/fixtures/generated/vision/ (git-ignored):
 *
 *   photos/  real photographs copied from Debian's opencv-doc (apt-get install opencv-doc)
 *   bad/     frames that must give a clear error or a graceful answer: empty, truncated, not an image,
 *            1x1, 8000x8000, and a photo stored sideways with an EXIF orientation tag
 *   text/    rendered text (English, Chinese, prices) with expected.json (scripts/text-images.ts)
 *   video/   a short real video for the file camera
 *
 *   tsx scripts/make-vision-fixtures.ts [--force]
 *   tsx scripts/make-vision-fixtures.ts --samples   (re)write the demo camera's committed photos in
 *                                                  firmware-ts/assets/samples/camera/
 *
 * Deterministic, and skipped when the stamp (a hash of the scripts, sharp's version and the sources)
 * matches and every output exists. Files are written to a temp name and renamed.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { writeFileAtomic } from '../firmware-ts/src/util/atomic-file.js';
import { renderTextImages } from './text-images.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'test', 'fixtures', 'generated', 'vision');
const OPENCV_DATA = '/usr/share/doc/opencv-doc/examples/data';

/** The photographs the tests use (OpenCV's sample data, Apache-2.0 / BSD, Debian package opencv-doc). */
export const PHOTOS = [
  'apple.jpg',
  'baboon.jpg',
  'basketball1.png',
  'building.jpg',
  'fruits.jpg',
  'imageTextN.png',
  'imageTextR.png',
  'licenseplate_motion.jpg',
  'messi5.jpg',
  'orange.jpg',
  'stuff.jpg',
] as const;

const VIDEO = 'Megamind.avi';

async function stampOf(): Promise<string> {
  const hash = createHash('sha256');
  for (const f of ['scripts/make-vision-fixtures.ts', 'scripts/text-images.ts'])
    hash.update(await fs.readFile(join(ROOT, f)));
  hash.update(JSON.stringify(sharp.versions));
  for (const p of [...PHOTOS, VIDEO]) hash.update(`${p}:${(await fs.stat(join(OPENCV_DATA, p))).size}`);
  return hash.digest('hex');
}

async function photos(): Promise<void> {
  await fs.mkdir(join(OUT, 'photos'), { recursive: true });
  for (const p of PHOTOS)
    await writeFileAtomic(join(OUT, 'photos', p), await fs.readFile(join(OPENCV_DATA, p)));
  await fs.mkdir(join(OUT, 'video'), { recursive: true });
  await writeFileAtomic(join(OUT, 'video', VIDEO), await fs.readFile(join(OPENCV_DATA, VIDEO)));
}

async function badFrames(): Promise<void> {
  const dir = join(OUT, 'bad');
  await fs.mkdir(dir, { recursive: true });
  const fruits = await fs.readFile(join(OPENCV_DATA, 'fruits.jpg'));
  await writeFileAtomic(join(dir, 'empty.jpg'), Buffer.alloc(0));
  // Cut inside the entropy-coded data: the decoder meets the end of the file mid-scan.
  await writeFileAtomic(join(dir, 'truncated.jpg'), fruits.subarray(0, Math.floor(fruits.length / 2)));
  await writeFileAtomic(join(dir, 'not-an-image.jpg'), Buffer.from('this is a text file, not a JPEG\n'));
  await writeFileAtomic(
    join(dir, 'one-pixel.png'),
    await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } })
      .png()
      .toBuffer(),
  );
  // A real photo blown up to 8000x8000: a large camera still, decoded with shrink-on-load.
  await writeFileAtomic(
    join(dir, 'huge.jpg'),
    await sharp(fruits).resize(8000, 8000, { fit: 'fill' }).jpeg({ quality: 40 }).toBuffer(),
  );
  // Stored rotated 90 degrees clockwise with EXIF orientation 8, so an upright decode must turn it back.
  await writeFileAtomic(
    join(dir, 'sideways-exif.jpg'),
    await sharp(fruits).rotate(90).withMetadata({ orientation: 8 }).jpeg({ quality: 90 }).toBuffer(),
  );
}

/**
 * What the demo's camera sees (`npm start`), one photo per question in name order: a real photo for
 * "what is this", and a shelf label stuck on a real photo for "how much is this".
 */
async function demoCamera(): Promise<void> {
  const dir = join(ROOT, 'firmware-ts', 'assets', 'samples', 'camera');
  await fs.mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, '1-fruits.jpg'), await fs.readFile(join(OPENCV_DATA, 'fruits.jpg')));
  const label = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="150">
      <rect x="0" y="0" width="300" height="150" rx="8" fill="#ffffff" stroke="#c00000" stroke-width="6"/>
      <text x="150" y="58" text-anchor="middle" font-family="DejaVu Sans" font-size="34">Red apples</text>
      <text x="150" y="122" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold" font-size="52">¥12.50</text>
    </svg>`,
  );
  await writeFileAtomic(
    join(dir, '2-price-tag.jpg'),
    await sharp(await fs.readFile(join(OPENCV_DATA, 'apple.jpg')))
      .composite([{ input: label, top: 330, left: 106 }])
      .jpeg({ quality: 90 })
      .toBuffer(),
  );
  console.log(`make-vision-fixtures: wrote the demo camera's photos to ${dir}`);
}

if (process.argv.includes('--samples')) {
  await demoCamera();
  process.exit(0);
}
const force = process.argv.includes('--force');
const stampFile = join(OUT, '.stamp');
if (!existsSync(OPENCV_DATA)) {
  console.error(`make-vision-fixtures: ${OPENCV_DATA} is missing; apt-get install opencv-doc`);
  process.exit(1);
}
const stamp = await stampOf();
const current =
  !force &&
  existsSync(stampFile) &&
  (await fs.readFile(stampFile, 'utf8')) === stamp &&
  existsSync(join(OUT, 'text', 'expected.json')) &&
  existsSync(join(OUT, 'bad', 'sideways-exif.jpg'));
if (!current) {
  const started = Date.now();
  await photos();
  await badFrames();
  await fs.mkdir(join(OUT, 'text'), { recursive: true });
  await renderTextImages(join(OUT, 'text'));
  await writeFileAtomic(stampFile, stamp);
  console.log(`make-vision-fixtures: written to ${OUT} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
