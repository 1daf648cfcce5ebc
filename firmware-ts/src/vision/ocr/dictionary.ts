/**
 * The PP-OCR character dictionary (ppocr_keys_v1.txt, one character a line) and the CTC classes it
 * stands for: class 0 is the CTC blank, classes 1..n the dictionary lines in order, and class n+1 a
 * space (PaddleOCR `use_space_char`; the peer appends ' ' the same way). 6623 lines -> 6625 classes.
 */
import { promises as fs } from 'node:fs';
import { GlassesError, messageOf } from '../../errors.js';
import { findModel, verifiedModelPath, type Manifest } from '../../models/manifest.js';

/** The manifest entry of the dictionary. */
export const DICTIONARY_MODEL = 'ocr_dict';

/** The dictionary's characters, checked against the manifest's sha256 first. */
export async function loadDictionary(modelsDir: string, manifest: Manifest): Promise<string[]> {
  const entry = findModel(manifest, DICTIONARY_MODEL, 'ocr-dict');
  const file = await verifiedModelPath(modelsDir, entry);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new GlassesError(
      'E_MODEL_LOAD',
      `dictionary ${file} (${entry.name}): cannot read it (${messageOf(err)})`,
      {
        details: { file, model: entry.name },
        cause: err,
      },
    );
  }
  const chars = parseDictionary(text);
  if (chars.length === 0) {
    throw new GlassesError('E_MODEL_LOAD', `dictionary ${file} (${entry.name}) has no characters`, {
      details: { file, model: entry.name },
    });
  }
  return chars;
}

/** One character a line; a final newline (or none, as in ppocr_keys_v1.txt) does not add an entry. */
export function parseDictionary(text: string): string[] {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** The recogniser's class count for a dictionary: blank + characters + space. */
export function ctcClassCount(dictionary: readonly string[]): number {
  return dictionary.length + 2;
}

/** The text of one CTC class (the blank is ''). */
export function ctcSymbol(dictionary: readonly string[], cls: number): string {
  if (cls <= 0) return '';
  return cls <= dictionary.length ? (dictionary[cls - 1] ?? '') : ' ';
}

export interface Decoded {
  readonly text: string;
  /** Mean probability of the characters kept, 0 when there are none (PaddleOCR's convention). */
  readonly score: number;
}

/**
 * The recogniser was trained mostly on Chinese, which has no spaces, and under-predicts the space
 * class on Latin text: between two words blank usually wins, with the space class close behind. So
 * where a run of blanks separates two Latin characters and the space class reached this probability
 * inside it, a space is put back. Measured here: 72 photographed English signs 47 -> 72 read exactly,
 * 72 rendered English lines 68 -> 71, 64 Chinese lines unchanged (64), and the opencv text page loses
 * no spaces (the peer drops 5 of them on it, rotated).
 */
export const SOFT_SPACE_MIN = 0.1;

/** Han and full-width forms: no space is ever put back next to them (Chinese is written without). */
const CJK = /[\p{Script=Han}\u3000-\u303f\uff00-\uffef]/u;

/**
 * Greedy CTC decoding of `steps` rows of `classes` probabilities starting at `offset`: the best class
 * at each step, repeats collapsed, then blanks removed (PaddleOCR CTCLabelDecode, is_remove_duplicate),
 * plus the spaces of SOFT_SPACE_MIN.
 */
export function ctcGreedyDecode(
  probs: Float32Array,
  offset: number,
  steps: number,
  classes: number,
  dictionary: readonly string[],
  softSpaceMin = SOFT_SPACE_MIN,
): Decoded {
  const space = classes - 1;
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = -1;
  // The space class's highest probability over the blanks since the last character.
  let spaceInGap = 0;
  for (let t = 0; t < steps; t++) {
    const base = offset + t * classes;
    let best = 0;
    let bestP = -Infinity;
    for (let c = 0; c < classes; c++) {
      const p = probs[base + c] ?? -Infinity;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best === 0) {
      spaceInGap = Math.max(spaceInGap, probs[base + space] ?? 0);
    } else if (best !== previous) {
      const symbol = ctcSymbol(dictionary, best);
      const last = text.at(-1);
      if (
        spaceInGap >= softSpaceMin &&
        best !== space &&
        last !== undefined &&
        last !== ' ' &&
        !CJK.test(last) &&
        !CJK.test(symbol)
      ) {
        text += ' ';
      }
      text += symbol;
      sum += bestP;
      kept++;
      spaceInGap = 0;
    } else {
      spaceInGap = 0;
    }
    previous = best;
  }
  return { text, score: kept === 0 ? 0 : sum / kept };
}
