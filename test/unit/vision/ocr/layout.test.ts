import { describe, expect, it } from 'vitest';
import { blockNearestCentre, readingOrder } from '../../../../firmware-ts/src/vision/ocr/layout.js';
import type { TextLine } from '../../../../firmware-ts/src/vision/ocr/ocr.js';

function line(text: string, x: number, y: number, w: number, h: number, score = 0.9): TextLine {
  return {
    text,
    score,
    box: [x, y, w, h],
    quad: [
      [x, y],
      [x + w, y],
      [x + w, y + h],
      [x, y + h],
    ],
  };
}

/** A line of a page turned by `deg` about the origin. */
function turned(text: string, x: number, y: number, w: number, h: number, deg: number): TextLine {
  const a = (deg * Math.PI) / 180;
  const rot = ([px, py]: [number, number]): [number, number] => [
    px * Math.cos(a) - py * Math.sin(a),
    px * Math.sin(a) + py * Math.cos(a),
  ];
  const quad = line(text, x, y, w, h).quad!.map(rot);
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  const x0 = Math.min(...xs);
  const y0 = Math.min(...ys);
  return { text, score: 0.9, box: [x0, y0, Math.max(...xs) - x0, Math.max(...ys) - y0], quad };
}

const texts = (lines: readonly TextLine[]): string[] => lines.map((l) => l.text);

describe('readingOrder', () => {
  it('sorts rows top to bottom and pieces left to right', () => {
    const lines = [
      line('third', 10, 100, 80, 20),
      line('first', 10, 10, 80, 20),
      line('second', 10, 50, 80, 20),
    ];
    expect(texts(readingOrder(lines))).toEqual(['first', 'second', 'third']);
  });

  it("merges pieces of one row with a space (the peer's rule), their box the union", () => {
    const [merged, ...rest] = readingOrder([
      line('world', 120, 12, 90, 20, 0.8),
      line('Hello', 10, 10, 90, 20, 1),
    ]);
    expect(rest).toEqual([]);
    expect(merged!.text).toBe('Hello world');
    expect(merged!.score).toBeCloseTo(0.9, 9);
    expect(merged!.box).toEqual([10, 10, 200, 22]);
    expect(merged!.quad).toEqual([
      [10, 10],
      [210, 12],
      [210, 32],
      [10, 30],
    ]);
  });

  it('keeps lines apart whose midlines differ by half a line height or more', () => {
    expect(texts(readingOrder([line('upper', 10, 10, 90, 20), line('lower', 120, 21, 90, 20)]))).toEqual([
      'upper',
      'lower',
    ]);
    expect(texts(readingOrder([line('a', 10, 10, 90, 20), line('b', 120, 19, 90, 20)]))).toEqual(['a b']);
  });

  it('does not merge across a gap wider than three line heights (two columns stay two)', () => {
    const lines = [line('left column', 10, 10, 200, 20), line('right column', 300, 10, 200, 20)];
    expect(texts(readingOrder(lines))).toEqual(['left column', 'right column']);
  });

  it('keeps the rows of a slanted page (turned 12 degrees) apart and in order', () => {
    const lines = [0, 1, 2, 3].map((i) => turned(`row ${i}`, 20, 40 + i * 26, 400, 20, 12));
    expect(texts(readingOrder([...lines].reverse()))).toEqual(['row 0', 'row 1', 'row 2', 'row 3']);
  });

  it('returns nothing for nothing', () => {
    expect(readingOrder([])).toEqual([]);
  });
});

describe('blockNearestCentre', () => {
  const W = 640;
  const H = 480;

  it('reads the paragraph in the middle, not the caption in the corner', () => {
    const caption = line('Page 12', 16, 16, 60, 16);
    const para = [line('Opening hours', 230, 195, 180, 26), line('Monday to Friday', 215, 233, 210, 26)];
    expect(blockNearestCentre([caption, ...para], W, H)).toEqual(para);
  });

  it('returns the lines of the block as the same objects, in reading order', () => {
    const para = [
      line('one', 200, 200, 200, 24),
      line('two', 200, 230, 200, 24),
      line('three', 200, 260, 200, 24),
    ];
    const got = blockNearestCentre([para[2]!, para[0]!, para[1]!], W, H);
    expect(got).toEqual(para);
    expect(got[0]).toBe(para[0]);
  });

  it('splits blocks at a gap taller than a line, and picks the one nearer the centre', () => {
    const top = [line('Top title', 200, 40, 240, 30), line('subtitle', 200, 75, 240, 30)];
    const middle = [line('Centre text', 200, 225, 240, 30), line('goes here', 200, 260, 240, 30)];
    expect(texts(blockNearestCentre([...top, ...middle], W, H))).toEqual(['Centre text', 'goes here']);
  });

  it('keeps side-by-side columns as separate blocks', () => {
    const left = [line('left a', 20, 220, 200, 24), line('left b', 20, 250, 200, 24)];
    const right = [line('right a', 300, 220, 200, 24), line('right b', 300, 250, 200, 24)];
    // The centre (320, 240) is inside the right column's box.
    expect(texts(blockNearestCentre([...left, ...right], W, H))).toEqual(['right a', 'right b']);
  });

  it('returns nothing for nothing', () => {
    expect(blockNearestCentre([], W, H)).toEqual([]);
  });
});
