/**
 * Draws what the glasses saw onto the picture (boxes and labels as an SVG overlay composited by
 * sharp), so a person can check a detection or a reading by eye.
 */
import { dirname } from 'node:path';
import sharp from 'sharp';
import { GlassesError, messageOf } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { Box } from './frame.js';

export interface Mark {
  /** In pixels of the original (upright) picture. */
  readonly box: Box;
  readonly label: string;
}

const COLOURS = ['#ff3b30', '#34c759', '#007aff', '#ff9500', '#af52de', '#00c7be', '#ffcc00'];

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function overlaySvg(marks: readonly Mark[], width: number, height: number): string {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 250));
  const font = Math.max(12, Math.round(Math.min(width, height) / 40));
  const parts = marks.map((m, i) => {
    const colour = COLOURS[i % COLOURS.length] ?? '#ff3b30';
    const [x, y, w, h] = m.box.map((v) => Math.round(v)) as [number, number, number, number];
    // The label sits above the box, or inside it when the box touches the top edge.
    const ly = y - font - 4 >= 0 ? y - font - 4 : y;
    // Wide characters (CJK) take about a full em, Latin about 0.62 of one (DejaVu Sans).
    const lw =
      Math.round(Array.from(m.label).reduce((n, c) => n + (c.charCodeAt(0) > 0x2e80 ? 1 : 0.62), 0) * font) +
      8;
    // Kept inside the picture: a label at the right edge moves left rather than being cut off.
    const lx = Math.max(0, Math.min(x, width - lw));
    return [
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>`,
      `<rect x="${lx}" y="${ly}" width="${lw}" height="${font + 4}" fill="${colour}"/>`,
      `<text x="${lx + 4}" y="${ly + font}" font-family="DejaVu Sans, Noto Sans CJK SC, sans-serif" font-size="${font}" fill="#ffffff">${escapeXml(m.label)}</text>`,
    ].join('');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** Writes `image` (encoded bytes) upright as PNG with the marks drawn on it; atomic. */
export async function drawMarks(image: Uint8Array, marks: readonly Mark[], out: string): Promise<void> {
  const upright = sharp(image).autoOrient();
  const { width, height } = (await upright.metadata()).autoOrient;
  const png = await upright
    .composite([{ input: Buffer.from(overlaySvg(marks, width, height)), top: 0, left: 0 }])
    .png()
    .toBuffer();
  try {
    await writeFileAtomic(out, png);
  } catch (err) {
    const why =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? `its folder ${dirname(out)} does not exist`
        : messageOf(err);
    throw new GlassesError('E_OUTPUT_FILE', `picture ${out}: cannot write it (${why})`, {
      details: { file: out },
      cause: err,
    });
  }
}
