/**
 * What one captured frame shows, and the spoken answers to "what is this", "read this" and "how much
 * is this". Pure functions over detections and text lines, so the wording is tested without models.
 */
import type { Detection } from './detector/detector.js';
import type { Box } from './frame.js';
import { blockNearestCentre, type TextLine } from './ocr/ocr.js';
import { findPrices, type Price } from './prices.js';

/** One frame's findings: kept for the turn that asked (cloud context), never its pixels. */
export interface Scene {
  readonly source: string;
  readonly width: number;
  readonly height: number;
  readonly objects: readonly Detection[];
  /** Every text line read, in reading order; undefined when OCR did not run for this turn. */
  readonly lines?: readonly TextLine[];
  /** Prices in the text, nearest the centre first. */
  readonly prices?: readonly Price[];
}

export interface Focus {
  readonly focus: Detection;
  /** How sure the detector was of it: the answer hedges below `confidentScore`. */
  readonly weight: number;
  readonly others: readonly Detection[];
}

/**
 * The object the wearer is looking at: the camera points where the head points, so the object nearest
 * the centre wins, weighted by its score and by how much of the view it fills (a big object slightly
 * off-centre beats a speck at the centre). An object covering the centre counts as centred.
 */
export function focusObject(objects: readonly Detection[], width: number, height: number): Focus | undefined {
  let best: Detection | undefined;
  let bestWeight = -1;
  const halfDiagonal = Math.hypot(width, height) / 2;
  for (const d of objects) {
    const w = d.score * centrality(d.box, width, height, halfDiagonal) * sizeFactor(d.box, width, height);
    if (w > bestWeight) {
      best = d;
      bestWeight = w;
    }
  }
  if (best === undefined) return undefined;
  const focus = best;
  return { focus, weight: bestWeight, others: objects.filter((d) => d !== focus) };
}

function centrality(box: Box, width: number, height: number, halfDiagonal: number): number {
  const [x, y, w, h] = box;
  const cx = width / 2;
  const cy = height / 2;
  if (cx >= x && cx <= x + w && cy >= y && cy <= y + h) return 1;
  const d = Math.hypot(x + w / 2 - cx, y + h / 2 - cy) / halfDiagonal;
  return Math.max(0.05, 1 - d);
}

function sizeFactor(box: Box, width: number, height: number): number {
  // sqrt: linear size, not area; a third of the frame's width is as big as it needs to be.
  const linear = Math.sqrt((box[2] * box[3]) / (width * height));
  return 0.4 + 0.6 * Math.min(1, linear / 0.33);
}

export function withArticle(label: string): string {
  return `${/^[aeiou]/i.test(label) ? 'an' : 'a'} ${label}`;
}

function listOf(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;
}

/** "That's a cup, next to a laptop." Low confidence is said as such, not guessed. */
export function identifyAnswer(scene: Scene, confidentScore: number): string {
  const f = focusObject(scene.objects, scene.width, scene.height);
  if (f === undefined) return "I can't tell what that is. I don't see anything I know.";
  const name = withArticle(f.focus.label);
  if (f.focus.score < confidentScore) return `I'm not sure. It might be ${name}.`;
  const besides = [
    ...new Set(
      f.others
        .filter((d) => d.score >= confidentScore && d.label !== f.focus.label)
        .sort((a, b) => b.score - a.score)
        .map((d) => d.label),
    ),
  ].slice(0, 2);
  const same = f.others.filter((d) => d.label === f.focus.label && d.score >= confidentScore).length;
  const head = same > 0 ? `That's ${name}, one of ${same + 1}` : `That's ${name}`;
  return besides.length === 0 ? `${head}.` : `${head}, next to ${listOf(besides.map(withArticle))}.`;
}

/** The text block nearest the centre, as one line of speech. */
export function readAnswer(scene: Scene, confidentScore: number): string {
  const lines = scene.lines ?? [];
  if (lines.length === 0) return "I don't see any text to read.";
  const block = blockNearestCentre(lines, scene.width, scene.height);
  const text = block.map((l) => speakablePrices(l.text.trim())).filter((t) => t !== '');
  if (text.length === 0) return "I don't see any text to read.";
  const mean = block.reduce((s, l) => s + l.score, 0) / block.length;
  const spoken = text.map((t) => (/[.!?。！？]$/.test(t) ? t : `${t}.`)).join(' ');
  return mean < confidentScore ? `It's hard to read, but I think it says: ${spoken}` : `It says: ${spoken}`;
}

/** "Apples ¥12.50" -> "Apples 12 yuan 50": a speech engine reads a currency sign badly or not at all. */
function speakablePrices(text: string): string {
  let out = text.normalize('NFKC');
  for (const p of findPrices(out)) out = out.replace(p.text, spokenPrice(p));
  return out;
}

/** Prices in the scene's text, those in the block nearest the centre first, without repeats. */
export function scenePrices(lines: readonly TextLine[], width: number, height: number): Price[] {
  const central = blockNearestCentre(lines, width, height);
  const rest = lines.filter((l) => !central.includes(l));
  const seen = new Set<string>();
  const out: Price[] = [];
  for (const l of [...central, ...rest]) {
    for (const p of findPrices(l.text)) {
      const key = `${p.currency ?? ''}${p.amount}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(p);
    }
  }
  return out;
}

const CURRENCY_WORDS: Record<NonNullable<Price['currency']>, [string, string]> = {
  CNY: ['yuan', 'yuan'],
  USD: ['dollar', 'dollars'],
  EUR: ['euro', 'euros'],
  GBP: ['pound', 'pounds'],
  JPY: ['yen', 'yen'],
};

/** "12 yuan 50": speech engines read "12.50" as "twelve point five zero". */
export function spokenPrice(p: Price): string {
  const whole = Math.floor(p.amount);
  const cents = Math.round((p.amount - whole) * 100);
  if (p.currency === null) return cents === 0 ? String(whole) : `${whole} ${String(cents).padStart(2, '0')}`;
  const [one, many] = CURRENCY_WORDS[p.currency];
  const unit = whole === 1 ? one : many;
  return cents === 0 ? `${whole} ${unit}` : `${whole} ${unit} ${String(cents).padStart(2, '0')}`;
}

export function priceAnswer(scene: Scene): string {
  const prices = scene.prices ?? [];
  const first = prices[0];
  if (first === undefined) {
    return (scene.lines ?? []).length === 0
      ? "I don't see a price."
      : "I can't find a price in the text I see.";
  }
  if (prices.length === 1) return `It's ${spokenPrice(first)}.`;
  const more = prices.slice(1, 3).map(spokenPrice);
  return `It's ${spokenPrice(first)}. I also see ${listOf(more)}.`;
}
