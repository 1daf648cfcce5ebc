import { describe, expect, it } from 'vitest';
import type { Frame } from '../../../../firmware-ts/src/vision/frame.js';
import {
  cropLine,
  lineGeometry,
  REC_HEIGHT,
  squareToQuad,
} from '../../../../firmware-ts/src/vision/ocr/crop.js';
import type { Quad } from '../../../../firmware-ts/src/vision/ocr/db-postprocess.js';

/** Where the homography `m` takes the unit-square point (u, v). */
function applyHomography(m: ReturnType<typeof squareToQuad>, u: number, v: number): [number, number] {
  const w = m.g * u + m.h * v + 1;
  return [(m.a * u + m.b * v + m.c) / w, (m.d * u + m.e * v + m.f) / w];
}

/** A frame whose red channel is x and green channel is y (so a sample says where it was taken). */
function coordinateFrame(width: number, height: number): Frame {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      rgb[(y * width + x) * 3] = x;
      rgb[(y * width + x) * 3 + 1] = y;
      rgb[(y * width + x) * 3 + 2] = 128;
    }
  }
  return { source: 'test', rgb, width, height, originalWidth: width, originalHeight: height };
}

/** The line image's pixel (row, col) as [r, g, b] in 0..255 (planes are BGR, 0..1). */
function pixel(data: Float32Array, width: number, row: number, col: number): [number, number, number] {
  const plane = REC_HEIGHT * width;
  const i = row * width + col;
  return [data[2 * plane + i]! * 255, data[plane + i]! * 255, data[i]! * 255];
}

describe('squareToQuad', () => {
  it('maps the unit square corners onto the quad, for a perspective quad too', () => {
    const quads: Quad[] = [
      [
        [10, 20],
        [110, 25],
        [105, 60],
        [12, 50],
      ],
      [
        [0, 0],
        [4, 0],
        [4, 2],
        [0, 2],
      ],
    ];
    for (const q of quads) {
      const m = squareToQuad(q);
      const corners = [
        applyHomography(m, 0, 0),
        applyHomography(m, 1, 0),
        applyHomography(m, 1, 1),
        applyHomography(m, 0, 1),
      ];
      corners.forEach((p, i) => {
        expect(p[0]).toBeCloseTo(q[i]![0], 9);
        expect(p[1]).toBeCloseTo(q[i]![1], 9);
      });
    }
  });
});

describe('cropLine', () => {
  it('scales a horizontal box to height 48 and width by aspect', () => {
    const q: Quad = [
      [20, 10],
      [220, 10],
      [220, 34],
      [20, 34],
    ];
    expect(lineGeometry(q)).toEqual({ vertical: false, width: 400 });
    const { data, width } = cropLine(coordinateFrame(256, 64), q);
    expect(width).toBe(400);
    expect(data).toHaveLength(3 * REC_HEIGHT * 400);
    // Output pixel (row 0, col 0) samples the box's top-left pixel area; the last one its bottom-right.
    const [r0, g0, b0] = pixel(data, width, 0, 0);
    expect(r0).toBeCloseTo(20.25, 1);
    expect(g0).toBeCloseTo(10.25, 1);
    expect(b0).toBeCloseTo(128, 3);
    const [r1, g1] = pixel(data, width, REC_HEIGHT - 1, width - 1);
    expect(r1).toBeCloseTo(219.75, 1);
    expect(g1).toBeCloseTo(33.75, 1);
  });

  it('turns a tall box (vertical text) upright, counter-clockwise as np.rot90', () => {
    const q: Quad = [
      [50, 10],
      [70, 10],
      [70, 110],
      [50, 110],
    ];
    const geometry = lineGeometry(q);
    expect(geometry).toEqual({ vertical: true, width: 240 });
    const { data, width } = cropLine(coordinateFrame(128, 128), q);
    // After rot90 the crop's top-right corner (70, 10) is the line image's top-left.
    const [r, g] = pixel(data, width, 0, 0);
    expect(r).toBeGreaterThan(69);
    expect(g).toBeLessThan(11);
    // And its bottom-left (50, 110) is the line image's bottom-right.
    const [r2, g2] = pixel(data, width, REC_HEIGHT - 1, width - 1);
    expect(r2).toBeLessThan(51);
    expect(g2).toBeGreaterThan(109);
  });

  it('averages when shrinking text taller than 48 px, and replicates edges outside the frame', () => {
    const q: Quad = [
      [-10, -10],
      [190, -10],
      [190, 90],
      [-10, 90],
    ];
    const frame = coordinateFrame(200, 100);
    const { data, width } = cropLine(frame, q);
    expect(width).toBe(96);
    const [r, g] = pixel(data, width, 0, 0);
    // Samples left of and above the frame take its edge: x and y clamp to 0.
    expect(r).toBeGreaterThanOrEqual(0);
    expect(r).toBeLessThan(1);
    expect(g).toBeLessThan(1);
    for (const v of data) expect(v).toBeGreaterThanOrEqual(0);
  });
});
