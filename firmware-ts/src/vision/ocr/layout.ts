/**
 * Where text lines sit relative to each other: reading order (rows top to bottom, left to right,
 * pieces of one row merged), and blocks (paragraphs) for "read this", which reads the block the
 * wearer is looking at. Pure functions over lines, so they are tested without models.
 */
import type { TextLine } from './ocr.js';

/**
 * Pieces further apart than this many line heights on one row are not merged into one line: the peer
 * merges a whole row, which runs two columns (or a caption beside a paragraph) into one sentence.
 */
const MERGE_MAX_GAP = 3;
/** Lines stacked with a gap up to this many (smaller) line heights belong to one block (paragraph). */
const BLOCK_MAX_GAP = 1;

/** A line in a frame turned so the page's text runs along x. */
interface Placed {
  readonly line: TextLine;
  readonly x0: number;
  readonly x1: number;
  readonly top: number;
  readonly bottom: number;
  readonly mid: number;
  readonly height: number;
}

/**
 * The page's text angle: the median slope of the lines' top edges. Reading order is decided in a
 * frame turned by it, so a page held at a slant keeps its rows (the peer compares raw y, and on a
 * slanted page its "heights" go negative and nothing merges).
 */
function pageAngle(lines: readonly TextLine[]): number {
  const angles = lines
    .map((l) => {
      const [tl, tr] = l.quad ?? [];
      return tl === undefined || tr === undefined ? 0 : Math.atan2(tr[1] - tl[1], tr[0] - tl[0]);
    })
    .sort((a, b) => a - b);
  return angles[Math.floor(angles.length / 2)] ?? 0;
}

function place(lines: readonly TextLine[]): Placed[] {
  const theta = pageAngle(lines);
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  return lines.map((line) => {
    const [x, y, w, h] = line.box;
    const pts: readonly (readonly [number, number])[] =
      line.quad ??
      ([
        [x, y],
        [x + w, y],
        [x + w, y + h],
        [x, y + h],
      ] as const);
    const xs = pts.map((p) => p[0] * cos + p[1] * sin);
    const ys = pts.map((p) => -p[0] * sin + p[1] * cos);
    const top = Math.min(...ys);
    const bottom = Math.max(...ys);
    return {
      line,
      x0: Math.min(...xs),
      x1: Math.max(...xs),
      top,
      bottom,
      mid: (top + bottom) / 2,
      height: bottom - top,
    };
  });
}

/**
 * Rows in reading order, each left to right. The peer's rule (@gutenye/ocr-common Recognition.ts,
 * groupBoxesByMidlineDifference): a line joins the first row whose first line's midline is less than
 * half the mean line height away; rows sorted by their first line's top. Ours also asks the line to be
 * within MERGE_MAX_GAP line heights of the row.
 */
function rows(placed: readonly Placed[]): Placed[][] {
  if (placed.length === 0) return [];
  const meanHeight = placed.reduce((s, p) => s + p.height, 0) / placed.length;
  const out: Placed[][] = [];
  for (const p of [...placed].sort((a, b) => a.top - b.top || a.x0 - b.x0)) {
    const row = out.find((r) => {
      const first = r[0];
      if (first === undefined || Math.abs(first.mid - p.mid) >= meanHeight / 2) return false;
      const x0 = Math.min(...r.map((q) => q.x0));
      const x1 = Math.max(...r.map((q) => q.x1));
      return Math.max(p.x0 - x1, x0 - p.x1) <= MERGE_MAX_GAP * meanHeight;
    });
    if (row === undefined) out.push([p]);
    else row.push(p);
  }
  for (const r of out) r.sort((a, b) => a.x0 - b.x0);
  return out.sort((a, b) => (a[0]?.top ?? 0) - (b[0]?.top ?? 0));
}

/** Lines in reading order, the pieces of each row joined by a space into one line (as the peer does). */
export function readingOrder(lines: readonly TextLine[]): TextLine[] {
  return rows(place(lines)).map((row) => {
    const first = row[0];
    const last = row[row.length - 1];
    if (row.length === 1 && first !== undefined) return first.line;
    const ls = row.map((p) => p.line);
    const x0 = Math.min(...ls.map((l) => l.box[0]));
    const y0 = Math.min(...ls.map((l) => l.box[1]));
    const x1 = Math.max(...ls.map((l) => l.box[0] + l.box[2]));
    const y1 = Math.max(...ls.map((l) => l.box[1] + l.box[3]));
    const [tl, , , bl] = first?.line.quad ?? [];
    const [, tr, br] = last?.line.quad ?? [];
    const quad = tl && tr && br && bl ? { quad: [tl, tr, br, bl] } : {};
    return {
      text: ls.map((l) => l.text).join(' '),
      score: ls.reduce((s, l) => s + l.score, 0) / ls.length,
      box: [x0, y0, x1 - x0, y1 - y0] as const,
      ...quad,
    };
  });
}

/**
 * Groups lines into blocks (paragraphs) and returns the block nearest the frame centre, lines in
 * reading order. Two lines are in one block when they overlap side to side and the gap between them
 * is at most BLOCK_MAX_GAP times the smaller one's height. The nearest block is the one whose
 * bounding box is closest to the centre (0 when it covers it); ties go to the block with more text.
 */
export function blockNearestCentre(lines: readonly TextLine[], width: number, height: number): TextLine[] {
  const placed = place(lines);
  const parent = placed.map((_, i) => i);
  const find = (i: number): number => {
    let r = i;
    while (parent[r] !== r) r = parent[r] ?? r;
    parent[i] = r;
    return r;
  };
  for (let i = 0; i < placed.length; i++) {
    for (let j = i + 1; j < placed.length; j++) {
      const a = placed[i];
      const b = placed[j];
      if (a === undefined || b === undefined) continue;
      const hGap = Math.max(a.x0 - b.x1, b.x0 - a.x1);
      const vGap = Math.max(a.top - b.bottom, b.top - a.bottom);
      if (hGap < 0 && vGap <= BLOCK_MAX_GAP * Math.min(a.height, b.height)) parent[find(i)] = find(j);
    }
  }
  const blocks = new Map<number, Placed[]>();
  for (const [i, p] of placed.entries()) {
    const r = find(i);
    const block = blocks.get(r) ?? [];
    block.push(p);
    blocks.set(r, block);
  }
  const cx = width / 2;
  const cy = height / 2;
  let best: Placed[] = [];
  let bestDistance = Infinity;
  let bestChars = -1;
  for (const block of blocks.values()) {
    const boxes = block.map((p) => p.line.box);
    const x0 = Math.min(...boxes.map((b) => b[0]));
    const y0 = Math.min(...boxes.map((b) => b[1]));
    const x1 = Math.max(...boxes.map((b) => b[0] + b[2]));
    const y1 = Math.max(...boxes.map((b) => b[1] + b[3]));
    const d = Math.hypot(Math.max(x0 - cx, 0, cx - x1), Math.max(y0 - cy, 0, cy - y1));
    const chars = block.reduce((s, p) => s + p.line.text.length, 0);
    if (d < bestDistance - 1e-9 || (Math.abs(d - bestDistance) <= 1e-9 && chars > bestChars)) {
      best = block;
      bestDistance = d;
      bestChars = chars;
    }
  }
  return rows(best).flatMap((r) => r.map((p) => p.line));
}
