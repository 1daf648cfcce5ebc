/**
 * The detection-error trade-off of a wake head: false rejects (FRR, share of positive clips never
 * detected) against false accepts per hour of negative audio, across thresholds, and its picture.
 *
 * Detections are counted with the runtime detector's own rule (wake/detector.ts): a frame fires when
 * its score reaches the threshold on a rising edge and the refractory period since the last detection
 * is over. So a curve computed here from per-frame scores gives the figures `glasses run` would see.
 */
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { FRAME_MS } from '../wake/features.js';

/** One positive clip: its per-frame scores (only the highest matters: one detection finds it). */
export type PositiveScores = ArrayLike<number>;

/** One negative clip: its per-frame scores, 80 ms apart, and its length. */
export interface NegativeScores {
  scores: ArrayLike<number>;
  seconds: number;
}

export interface DetPoint {
  threshold: number;
  /** Share of positives with no detection, 0..1. */
  frr: number;
  /** Detections over the negatives per hour of negative audio. */
  faPerHour: number;
  found: number;
  falseAccepts: number;
}

export interface DetOptions {
  /** Default: DEFAULT_THRESHOLDS. */
  thresholds?: readonly number[];
  /** Default: FRAME_MS (80), the runtime's frame. */
  frameMs?: number;
  /** Default: 2000, the runtime's default `wake.refractoryMs`; pass the configured one. */
  refractoryMs?: number;
}

/**
 * Heads saturate near 0 and 1, so the grid is fine at both ends and 0.01 apart in between.
 */
export const DEFAULT_THRESHOLDS: readonly number[] = [
  0.0001,
  0.0005,
  0.001,
  0.002,
  0.005,
  ...Array.from({ length: 99 }, (_, i) => (i + 1) / 100),
  0.995,
  0.998,
  0.999,
  0.9995,
  0.9999,
];

const DEFAULT_REFRACTORY_MS = 2000;

/** How many times the runtime detector fires on these frame scores (frame i ends at (i+1) * frameMs). */
export function countDetections(
  scores: ArrayLike<number>,
  threshold: number,
  frameMs: number = FRAME_MS,
  refractoryMs: number = DEFAULT_REFRACTORY_MS,
): number {
  let count = 0;
  let wasAbove = false;
  let refractoryUntilMs = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    const atMs = (i + 1) * frameMs;
    const above = (scores[i] ?? 0) >= threshold;
    if (above && !wasAbove && atMs >= refractoryUntilMs) {
      count++;
      refractoryUntilMs = atMs + refractoryMs;
    }
    wasAbove = above;
  }
  return count;
}

export function maxScore(scores: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < scores.length; i++) max = Math.max(max, scores[i] ?? 0);
  return max;
}

/** FRR and FA/h at each threshold, ascending. */
export function detCurve(
  positives: readonly PositiveScores[],
  negatives: readonly NegativeScores[],
  options: DetOptions = {},
): DetPoint[] {
  const thresholds = [...(options.thresholds ?? DEFAULT_THRESHOLDS)].sort((a, b) => a - b);
  const frameMs = options.frameMs ?? FRAME_MS;
  const refractoryMs = options.refractoryMs ?? DEFAULT_REFRACTORY_MS;
  const maxima = positives.map(maxScore);
  const hours = negatives.reduce((s, n) => s + n.seconds, 0) / 3600;
  return thresholds.map((threshold) => {
    const found = maxima.filter((m) => m >= threshold).length;
    let falseAccepts = 0;
    for (const n of negatives) falseAccepts += countDetections(n.scores, threshold, frameMs, refractoryMs);
    return {
      threshold,
      frr: maxima.length === 0 ? 0 : 1 - found / maxima.length,
      faPerHour: hours === 0 ? 0 : falseAccepts / hours,
      found,
      falseAccepts,
    };
  });
}

/**
 * The operating point for a false-accept budget: the lowest FRR with FA/h at or under
 * `maxFaPerHour`, and among equal FRRs the highest threshold (the most margin against false
 * accepts). Undefined when no threshold meets the budget.
 */
export function chooseThreshold(points: readonly DetPoint[], maxFaPerHour: number): DetPoint | undefined {
  let best: DetPoint | undefined;
  for (const p of points) {
    if (p.faPerHour > maxFaPerHour) continue;
    if (best === undefined || p.frr < best.frr || (p.frr === best.frr && p.threshold > best.threshold)) {
      best = p;
    }
  }
  return best;
}

export interface DetSeries {
  label: string;
  points: readonly DetPoint[];
}

export interface DetPlotOptions {
  /** The chosen operating point, drawn as a dot with its figures. */
  marked?: { threshold: number; frr: number; faPerHour: number };
  title?: string;
}

const WIDTH = 800;
const HEIGHT = 560;
const PLOT = { left: 80, right: 770, top: 50, bottom: 490 };
/** FA/h below this is drawn at it: a log axis has no zero. */
const FA_FLOOR = 0.01;
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function fmt(x: number): string {
  return Number(x.toPrecision(3)).toString();
}

/** The DET curve as SVG: FRR (%) up, FA per hour along a log axis. */
export function renderDetSvg(
  curves: readonly DetPoint[] | readonly DetSeries[],
  options: DetPlotOptions = {},
): string {
  const series = toSeries(curves);
  const allFa = series.flatMap((s) => s.points.map((p) => p.faPerHour));
  const maxFa = Math.max(10, ...allFa, options.marked?.faPerHour ?? 0);
  const decades = { lo: Math.log10(FA_FLOOR), hi: Math.ceil(Math.log10(maxFa)) };
  const x = (fa: number): number =>
    PLOT.left +
    ((Math.log10(Math.max(fa, FA_FLOOR)) - decades.lo) / (decades.hi - decades.lo)) *
      (PLOT.right - PLOT.left);
  const y = (frr: number): number => PLOT.bottom - frr * (PLOT.bottom - PLOT.top);
  const parts: string[] = [];
  parts.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`);
  // Grid and axes.
  for (let d = decades.lo; d <= decades.hi; d++) {
    const gx = x(10 ** d);
    parts.push(`<line x1="${gx}" y1="${PLOT.top}" x2="${gx}" y2="${PLOT.bottom}" stroke="#ddd"/>`);
    const label = d === decades.lo ? `≤${fmt(10 ** d)}` : fmt(10 ** d);
    parts.push(`<text x="${gx}" y="${PLOT.bottom + 20}" text-anchor="middle">${escapeXml(label)}</text>`);
  }
  for (let i = 0; i <= 10; i++) {
    const gy = y(i / 10);
    parts.push(`<line x1="${PLOT.left}" y1="${gy}" x2="${PLOT.right}" y2="${gy}" stroke="#ddd"/>`);
    parts.push(`<text x="${PLOT.left - 8}" y="${gy + 5}" text-anchor="end">${i * 10}%</text>`);
  }
  parts.push(
    `<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.right - PLOT.left}" height="${PLOT.bottom - PLOT.top}" fill="none" stroke="#333"/>`,
    `<text x="${(PLOT.left + PLOT.right) / 2}" y="${HEIGHT - 20}" text-anchor="middle">false accepts per hour (log)</text>`,
    `<text x="22" y="${(PLOT.top + PLOT.bottom) / 2}" text-anchor="middle" transform="rotate(-90 22 ${(PLOT.top + PLOT.bottom) / 2})">false rejects (FRR)</text>`,
  );
  if (options.title !== undefined) {
    parts.push(
      `<text x="${WIDTH / 2}" y="30" text-anchor="middle" font-size="18">${escapeXml(options.title)}</text>`,
    );
  }
  // Curves: one step per threshold, ordered by FA/h so the line reads left to right.
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length] ?? '#000';
    const pts = [...s.points]
      .sort((a, b) => a.faPerHour - b.faPerHour || b.frr - a.frr)
      .map((p) => `${x(p.faPerHour).toFixed(1)},${y(p.frr).toFixed(1)}`);
    if (pts.length > 0) {
      parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${colour}" stroke-width="2.5"/>`);
    }
    if (series.length > 1 || s.label !== '') {
      const ly = PLOT.top + 20 + i * 22;
      parts.push(
        `<line x1="${PLOT.right - 200}" y1="${ly - 5}" x2="${PLOT.right - 170}" y2="${ly - 5}" stroke="${colour}" stroke-width="3"/>`,
        `<text x="${PLOT.right - 162}" y="${ly}">${escapeXml(s.label)}</text>`,
      );
    }
  });
  const m = options.marked;
  if (m !== undefined) {
    const mx = x(m.faPerHour);
    const my = y(m.frr);
    // The threshold as the detector uses it (0.9985, not 0.999): the curve's steep end lives in the fourth digit.
    const text = `threshold ${Number(m.threshold.toPrecision(12))}: FRR ${fmt(m.frr * 100)}% at ${fmt(m.faPerHour)} FA/h`;
    parts.push(
      `<circle cx="${mx}" cy="${my}" r="7" fill="none" stroke="black" stroke-width="2.5"/>`,
      `<text x="${Math.min(mx + 12, PLOT.right - 330)}" y="${Math.max(my - 12, PLOT.top + 16)}">${escapeXml(text)}</text>`,
    );
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="DejaVu Sans, sans-serif" font-size="14">`,
    ...parts,
    '</svg>',
  ].join('\n');
}

/** Writes the DET curve (one or several) as a PNG, through an SVG rendered by sharp. */
export async function renderDetPng(
  curves: readonly DetPoint[] | readonly DetSeries[],
  options: DetPlotOptions,
  outFile: string,
): Promise<void> {
  await fs.mkdir(dirname(outFile), { recursive: true });
  await sharp(Buffer.from(renderDetSvg(curves, options)))
    .png()
    .toFile(outFile);
}

function toSeries(curves: readonly DetPoint[] | readonly DetSeries[]): readonly DetSeries[] {
  const first = curves[0];
  if (first === undefined) return [];
  return 'points' in first
    ? (curves as readonly DetSeries[])
    : [{ label: '', points: curves as readonly DetPoint[] }];
}
