import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  chooseThreshold,
  countDetections,
  detCurve,
  renderDetPng,
  renderDetSvg,
} from '../../../firmware-ts/src/wake-train/det.js';

describe('countDetections', () => {
  it('fires on rising edges only', () => {
    // Two separate crossings 4 s apart; the first stays above for 3 frames.
    const scores = [0, 0.9, 0.9, 0.9, 0, ...Array<number>(45).fill(0), 0.8, 0];
    expect(countDetections(scores, 0.5, 80, 2000)).toBe(2);
    expect(countDetections(scores, 0.85, 80, 2000)).toBe(1);
    expect(countDetections(scores, 0.95, 80, 2000)).toBe(0);
  });

  it('ignores a second crossing inside the refractory period, as the runtime detector does', () => {
    // Crossings at frame 1 (160 ms) and frame 11 (960 ms): 800 ms apart.
    const scores = [0, 0.9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.9, 0];
    expect(countDetections(scores, 0.5, 80, 2000)).toBe(1);
    expect(countDetections(scores, 0.5, 80, 500)).toBe(2);
  });

  it('counts a threshold equal to the score as a crossing', () => {
    expect(countDetections([0, 0.5, 0], 0.5)).toBe(1);
  });

  it('needs a falling edge after the refractory period to fire again', () => {
    // Above from frame 0 to frame 59 (4.8 s), longer than the 2 s refractory: still one detection.
    expect(countDetections(Array<number>(60).fill(0.9), 0.5, 80, 2000)).toBe(1);
  });
});

describe('detCurve', () => {
  // Four positives with maxima 0.2, 0.4, 0.6, 0.8; one hour of negatives in two clips.
  const positives = [[0, 0.2], [0.4], [0.1, 0.6, 0.3], [0.8]];
  const spike = (at: number, score: number, frames: number): number[] => {
    const s = Array<number>(frames).fill(0);
    s[at] = score;
    return s;
  };
  const negatives = [
    // 30 min: spikes of 0.3 and 0.7 far apart.
    { scores: [...spike(10, 0.3, 1000), ...spike(10, 0.7, 1000)], seconds: 1800 },
    { scores: spike(5, 0.3, 100), seconds: 1800 },
  ];

  it('gives FRR and FA/h at each threshold', () => {
    const curve = detCurve(positives, negatives, { thresholds: [0.25, 0.5, 0.75, 0.9] });
    expect(curve.map((p) => p.threshold)).toEqual([0.25, 0.5, 0.75, 0.9]);
    expect(curve.map((p) => p.found)).toEqual([3, 2, 1, 0]);
    expect(curve.map((p) => p.frr)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(curve.map((p) => p.falseAccepts)).toEqual([3, 1, 0, 0]);
    expect(curve.map((p) => p.faPerHour)).toEqual([3, 1, 0, 0]);
  });

  it('scales false accepts by the hours of negatives', () => {
    const [p] = detCurve(positives, [{ scores: spike(3, 0.9, 10), seconds: 900 }], { thresholds: [0.5] });
    expect(p?.faPerHour).toBe(4);
  });

  it('sorts the thresholds and has FRR rise and FA/h fall along them', () => {
    const curve = detCurve(positives, negatives);
    for (let i = 1; i < curve.length; i++) {
      const [a, b] = [curve[i - 1]!, curve[i]!];
      expect(b.threshold).toBeGreaterThan(a.threshold);
      expect(b.frr).toBeGreaterThanOrEqual(a.frr);
      expect(b.faPerHour).toBeLessThanOrEqual(a.faPerHour);
    }
  });

  it('chooses the lowest FRR within the false-accept budget', () => {
    const curve = detCurve(positives, negatives, { thresholds: [0.25, 0.5, 0.75, 0.9] });
    expect(chooseThreshold(curve, 1)?.threshold).toBe(0.5);
    expect(chooseThreshold(curve, 0)?.threshold).toBe(0.75); // 0.75 and 0.9 meet it: the lower FRR wins
    expect(chooseThreshold(curve, 5)?.threshold).toBe(0.25);
    expect(chooseThreshold(detCurve(positives, negatives, { thresholds: [0.1] }), 0.5)).toBeUndefined();
  });
});

describe('renderDetPng', () => {
  it('writes a PNG of the curve with the chosen point marked', async () => {
    const dir = await fs.mkdtemp(join(tmpdir(), 'det-'));
    try {
      const curve = detCurve([[0.2], [0.4], [0.6], [0.8]], [{ scores: [0, 0.3, 0, 0.7], seconds: 3600 }]);
      const out = join(dir, 'sub', 'det.png');
      await renderDetPng(
        curve,
        { marked: { threshold: 0.5, frr: 0.5, faPerHour: 1 }, title: 'hey <quark>' },
        out,
      );
      const meta = await sharp(out).metadata();
      expect(meta.format).toBe('png');
      expect([meta.width, meta.height]).toEqual([800, 560]);
      // The curve is drawn: not a blank white page.
      const stats = await sharp(out).stats();
      expect(stats.channels[0]!.min).toBeLessThan(100);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('escapes labels and draws one line per series', () => {
    const curve = detCurve([[0.5]], [{ scores: [0.6], seconds: 60 }]);
    const svg = renderDetSvg([
      { label: 'ours & theirs', points: curve },
      { label: 'pretrained', points: curve },
    ]);
    expect(svg).toContain('ours &#38; theirs');
    expect(svg.match(/<polyline/g)).toHaveLength(2);
  });

  it('labels the marked point with the exact threshold, not a rounded one', () => {
    const curve = detCurve([[0.99]], [{ scores: [0.5], seconds: 60 }], { thresholds: [0.9985] });
    const svg = renderDetSvg(curve, { marked: { threshold: 0.9985, frr: 0.675, faPerHour: 0 } });
    expect(svg).toContain('threshold 0.9985: FRR 67.5%');
    expect(renderDetSvg(curve, { marked: { threshold: 0.1 + 0.2, frr: 0, faPerHour: 0 } })).toContain(
      'threshold 0.3:',
    );
  });
});
