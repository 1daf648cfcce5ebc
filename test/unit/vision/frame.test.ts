import { describe, expect, it } from 'vitest';
import {
  letterbox,
  letterboxGeometry,
  normalise,
  toOriginalBox,
  unletterboxBox,
  type Frame,
} from '../../../firmware-ts/src/vision/frame.js';

function solidFrame(width: number, height: number, rgb: [number, number, number]): Frame {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { source: 'solid', rgb: data, width, height, originalWidth: width * 2, originalHeight: height * 2 };
}

describe('letterbox geometry', () => {
  it('fits a wide frame to the width and pads top and bottom equally', () => {
    const g = letterboxGeometry(640, 320, 416, 416);
    expect(g.scale).toBeCloseTo(0.65);
    expect(g.padX).toBe(0);
    expect(g.padY).toBe(104);
  });

  it('maps a model box back to the frame exactly, and clips it to the frame', () => {
    const g = letterboxGeometry(640, 320, 416, 416);
    // Frame box (100, 50, 200, 100) in model pixels is (65, 104 + 32.5, 130, 65).
    const back = unletterboxBox([65, 136.5, 130, 65], g, 640, 320);
    expect(back.map((v) => Math.round(v * 1000) / 1000)).toEqual([100, 50, 200, 100]);
    const clipped = unletterboxBox([-20, 90, 500, 60], g, 640, 320);
    expect(clipped[0]).toBe(0);
    expect(clipped[0] + clipped[2]).toBe(640);
  });

  it('scales frame boxes to the original picture when the frame was downscaled', () => {
    expect(toOriginalBox([10, 20, 30, 40], solidFrame(100, 50, [0, 0, 0]))).toEqual([20, 40, 60, 80]);
  });
});

describe('letterbox pixels', () => {
  it('puts the picture in the middle and the fill colour around it', async () => {
    const { rgb, geometry } = await letterbox(solidFrame(200, 100, [250, 10, 20]), 64, 64, {
      fill: [114, 114, 114],
    });
    expect(rgb.length).toBe(64 * 64 * 3);
    expect(geometry.padY).toBe(16);
    const px = (x: number, y: number): number[] => [...rgb.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3)];
    expect(px(32, 2)).toEqual([114, 114, 114]);
    expect(px(32, 32)).toEqual([250, 10, 20]);
    expect(px(32, 61)).toEqual([114, 114, 114]);
  });
});

describe('normalise', () => {
  const rgb = new Uint8Array([10, 20, 30, 40, 50, 60]); // 2x1 pixels

  it('lays out planes for NCHW with mean and std per channel', () => {
    const t = normalise(rgb, 2, 1, { layout: 'nchw', mean: [10, 20, 30], std: [2, 4, 5] });
    expect([...t]).toEqual([0, 15, 0, 7.5, 0, 6]);
  });

  it('interleaves for NHWC and swaps to BGR when asked', () => {
    const t = normalise(rgb, 2, 1, { layout: 'nhwc', order: 'bgr' });
    expect([...t]).toEqual([30, 20, 10, 60, 50, 40]);
  });
});
