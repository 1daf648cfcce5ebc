/** What `glasses detect` and `glasses ocr` share: reading image files, error reporting, --draw. */
import { basename, extname, join, dirname } from 'node:path';
import { isGlassesError } from '../errors.js';
import { readImageFile } from '../hal/camera.js';
import type { Log } from '../log.js';
import { drawMarks, type Mark } from '../vision/draw.js';
import { decodeImage, type Frame } from '../vision/frame.js';

/** Where `--draw OUT.png` writes for `file`: OUT itself for one image, OUT-<image>.png for several. */
export function drawTarget(out: string, file: string, many: boolean): string {
  if (!many) return out;
  const stem = basename(out, extname(out));
  return join(dirname(out), `${stem}-${basename(file, extname(file))}.png`);
}

/**
 * Runs `look` on each file in turn. A file that cannot be read or decoded is reported by name and
 * the others are still processed; the result is the exit code (1 when any file failed).
 */
export async function forEachImage(
  files: readonly string[],
  log: Log,
  draw: string | undefined,
  look: (frame: Frame, file: string) => Promise<Mark[]>,
): Promise<number> {
  let failed = 0;
  for (const file of files) {
    try {
      const bytes = await readImageFile(file);
      const frame = await decodeImage(bytes, file);
      const marks = await look(frame, file);
      if (draw !== undefined) await drawMarks(bytes, marks, drawTarget(draw, file, files.length > 1));
    } catch (err) {
      if (!isGlassesError(err)) throw err;
      failed++;
      log.error({ code: err.code, file }, err.message);
    }
  }
  if (failed > 0) {
    log.error({ failed, total: files.length }, `${failed} of ${files.length} images failed`);
  }
  return failed > 0 ? 1 : 0;
}

/** Boxes in the JSON output: whole pixels of the original picture. */
export function pixelBox(box: readonly [number, number, number, number]): [number, number, number, number] {
  return [Math.round(box[0]), Math.round(box[1]), Math.round(box[2]), Math.round(box[3])];
}
