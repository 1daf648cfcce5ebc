/**
 * Cuts text that arrives in pieces (language-model tokens) into sentences, each yielded as soon as it
 * is known to be complete, so speech can start before the answer has finished arriving.
 *
 * A heuristic, not a parser: a sentence ends at a newline, after 。！？, or after a run of . ! ? (and
 * any closing quotes or brackets) followed by white space. A full stop does not end a sentence after
 * a known abbreviation ("Mr.", "approx."), after initials ("U.S.", "e.g.", "J."), after a list number
 * ("1.") or when the next word starts in lower case ("approx. five"). Decimals ("3.5", "$4.99") never
 * split because no space follows the point. Whether a full stop ends a sentence can depend on the
 * text after it, so a sentence is held back until that text has arrived (or the stream has ended).
 */

const CJK_ENDS = new Set(['。', '！', '？']);
const LATIN_ENDS = new Set(['.', '!', '?']);
// Closing punctuation that belongs to the sentence it follows: `He said "go." Then`.
const CLOSERS = new Set(['"', "'", ')', ']', '}', '”', '’', '»', '」', '』', '）']);
// Lower-case, with their full stop. Words that often end a sentence ("etc.", "no.") are left out.
const ABBREVIATIONS = new Set([
  'mr.',
  'mrs.',
  'ms.',
  'dr.',
  'prof.',
  'sr.',
  'jr.',
  'st.',
  'mt.',
  'vs.',
  'approx.',
  'dept.',
  'fig.',
  'inc.',
  'ltd.',
  'co.',
  'corp.',
  'gen.',
  'gov.',
  'sgt.',
  'capt.',
  'lt.',
  'col.',
]);
// "U.S.", "e.g.", "i.e.", "a.m.": letters each followed by a full stop; or one capital, as in "John F.".
const INITIALS = /^(?:(?:\p{L}\.){2,}|\p{Lu}\.)$/u;
const OPENERS = /^["'([{“‘«「『（¿¡]+/u;
const LIST_NUMBER = /^\d{1,3}$/;
const LOWER = /^\p{Ll}$/u;
const SPACE = /^\s$/u;

type Decision =
  | { kind: 'split'; end: number; next: number }
  | { kind: 'no'; next: number }
  /** The text after position `at` is needed to decide; scan again from `at` once it arrives. */
  | { kind: 'wait'; at: number };

function isSpace(ch: string | undefined): boolean {
  return ch !== undefined && SPACE.test(ch);
}

/** The word that ends at `i` (inclusive), without opening quotes or brackets. */
function wordEndingAt(buf: string, i: number): string {
  let start = i;
  while (start > 0 && !isSpace(buf.charAt(start - 1))) start--;
  return buf.slice(start, i + 1).replace(OPENERS, '');
}

/** Decides whether the terminator at `i` ends the sentence that started at 0. */
function decide(buf: string, i: number, final: boolean): Decision {
  const ch = buf.charAt(i);
  if (ch === '\n') return { kind: 'split', end: i, next: i + 1 };
  let j = i + 1;
  if (CJK_ENDS.has(ch)) {
    // CJK text puts no space after its full stop, so the mark alone ends the sentence.
    while (CLOSERS.has(buf.charAt(j))) j++;
    return { kind: 'split', end: j, next: j };
  }
  while (LATIN_ENDS.has(buf.charAt(j))) j++;
  const runEnd = j;
  while (CLOSERS.has(buf.charAt(j))) j++;
  if (j >= buf.length) return final ? { kind: 'split', end: j, next: j } : { kind: 'wait', at: i };
  if (!isSpace(buf.charAt(j))) return { kind: 'no', next: runEnd };
  const split: Decision = { kind: 'split', end: j, next: j };
  if (/^\.+$/.test(buf.slice(i, runEnd))) {
    if (runEnd - i === 1) {
      const word = wordEndingAt(buf, i);
      if (ABBREVIATIONS.has(word.toLowerCase()) || INITIALS.test(word)) return { kind: 'no', next: j };
      if (LIST_NUMBER.test(buf.slice(0, i).trim())) return { kind: 'no', next: j };
    }
    let k = j;
    while (isSpace(buf.charAt(k)) && buf.charAt(k) !== '\n') k++;
    if (k >= buf.length) return final ? split : { kind: 'wait', at: i };
    if (LOWER.test(buf.charAt(k))) return { kind: 'no', next: k };
  }
  return split;
}

/**
 * Finds the end of the first complete sentence in `buf`, scanning from `from` (everything before it
 * is known not to end a sentence).
 */
function firstBoundary(buf: string, from: number, final: boolean): Decision {
  let i = from;
  while (i < buf.length) {
    const ch = buf.charAt(i);
    if (ch === '\n' || CJK_ENDS.has(ch) || LATIN_ENDS.has(ch)) {
      const d = decide(buf, i, final);
      if (d.kind !== 'no') return d;
      i = d.next;
    } else {
      i++;
    }
  }
  return { kind: 'no', next: buf.length };
}

/** Yields the sentences of `text`, trimmed, as each completes; the rest when the text ends. */
export async function* sentences(text: AsyncIterable<string> | string): AsyncIterable<string> {
  const pieces: AsyncIterable<string> | Iterable<string> = typeof text === 'string' ? [text] : text;
  let buf = '';
  let from = 0;
  function* drain(final: boolean): Generator<string> {
    for (;;) {
      const d = firstBoundary(buf, from, final);
      if (d.kind !== 'split') {
        from = d.kind === 'wait' ? d.at : d.next;
        return;
      }
      const sentence = buf.slice(0, d.end).trim();
      buf = buf.slice(d.next);
      from = 0;
      if (sentence !== '') yield sentence;
    }
  }
  for await (const piece of pieces) {
    buf += piece;
    yield* drain(false);
  }
  yield* drain(true);
  const rest = buf.trim();
  if (rest !== '') yield rest;
}
