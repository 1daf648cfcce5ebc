/**
 * Adversarial near-misses of a wake phrase: things a person says that sound almost like it, which a
 * head must not fire on ("hey clark", "hey cork", "okay quark" for "hey quark"; "hey jervis",
 * "hey travis", "hey service" for "hey jarvis").
 *
 * How they are made:
 * 1. Candidates by spelling, for each word of the phrase: its onset (leading consonants) replaced,
 *    its first vowel group replaced, its final consonants replaced, onset and vowel together, and
 *    real words from a lexicon (LEXICON: common words and names). The phrase's other words stay.
 * 2. Structural variants: each word alone, the phrase without its first word, and the first word
 *    swapped for another call to attention ("okay", "hi", ...).
 * 3. Every candidate is turned into phonemes by espeak-ng in two accents (en-us, en-gb), and its
 *    distance to the phrase measured on phonemes: an edit costs 1, a vowel for a vowel or a consonant
 *    for its voiced/voiceless twin 0.5. A candidate at distance 0 in either accent is a homophone
 *    ("hay quark"): it is a positive, never a negative, so it is dropped. So is a change of the
 *    phrase's other words (or of its structure) smaller than a whole phoneme: "hi quark" and
 *    "here quark" are how people say "hey quark", and a head taught to reject them would miss the
 *    phrase itself. The main (longest) word may change by a vowel alone ("hey quirk"). Edited
 *    candidates further than `maxDistance` are dropped too; they are ordinary speech, not near-misses.
 * 4. The closest are kept, real words before made-up ones, one spelling per pronunciation, taking
 *    turns between the kinds of change so that no one kind crowds out the others.
 */
import { LEXICON } from './text.js';

export type NearMissSource = 'edit' | 'lexicon' | 'structure';

export interface NearMiss {
  text: string;
  /** Phoneme distance to the phrase (the smaller of the two accents). */
  distance: number;
  source: NearMissSource;
}

/** Text -> espeak-ng phoneme mnemonics (`espeak-ng -q -x`), one string per text, for one accent. */
export type Phonemizer = (texts: readonly string[], accent: string) => Promise<string[]>;

export const PHONEMIZER_ACCENTS: readonly string[] = ['en-us', 'en-gb'];

/** A change to any word but the main one must cost at least a whole phoneme (see above). */
const MIN_OTHER_DISTANCE = 1;

/** The phrase's longest word (its first, among equals): the one that carries its identity ("quark", not "hey"). */
export function mainWord(phrase: string): string {
  const words = normalisePhrase(phrase).split(' ');
  return words.reduce((best, w) => (w.length > best.length ? w : best), words[0] ?? '');
}

/**
 * Whether a candidate `distance` phonemes from the phrase is too close to be a near-miss: the same
 * sound, or under a whole phoneme away while it keeps the phrase's main word.
 */
export function tooClose(distance: number, keepsMainWord: boolean): boolean {
  return distance === 0 || (keepsMainWord && distance < MIN_OTHER_DISTANCE);
}

const ONSETS = [
  '', 'b', 'c', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'y', 'z',
  'bl', 'br', 'ch', 'cl', 'cr', 'dr', 'fl', 'fr', 'gl', 'gr', 'pl', 'pr', 'qu', 'sc', 'sh', 'sk', 'sl',
  'sm', 'sn', 'sp', 'st', 'sw', 'th', 'tr', 'tw', 'wh',
]; // prettier-ignore
const NUCLEI = [
  'a', 'e', 'i', 'o', 'u', 'ar', 'er', 'ir', 'or', 'ur', 'ee', 'oo', 'ay', 'ai', 'oa', 'ou', 'ea', 'aw',
]; // prettier-ignore
/** Vowels tried together with a new onset (all of NUCLEI would be 800 candidates a word). */
const SHORT_NUCLEI = ['a', 'e', 'i', 'o', 'u', 'ar', 'er', 'or'];
const CODAS = [
  '',
  'b',
  'd',
  'g',
  'k',
  'l',
  'm',
  'n',
  'p',
  's',
  't',
  'ch',
  'ck',
  'ks',
  'nt',
  'rt',
  'ts',
  'sh',
];
/** Other calls to attention that may stand where a phrase's first word does. */
const ATTENTION_WORDS = ['okay', 'hi', 'hello', 'say', 'oh', 'yo', 'a', 'the', 'hey there'];

const VOWEL_LETTERS = /[aeiouy]/;

/** Splits a word into onset, nucleus (first vowel group, with a following r) and the rest. */
export function syllableParts(word: string): { onset: string; nucleus: string; rest: string } {
  let i = 0;
  // `qu` is an onset: the u is a consonant there.
  if (word.startsWith('qu')) i = 2;
  // y at the start is a consonant (yes, you).
  else if (word.startsWith('y')) i = 1;
  while (i < word.length && !VOWEL_LETTERS.test(word[i] ?? '')) i++;
  let j = i;
  while (j < word.length && VOWEL_LETTERS.test(word[j] ?? '')) j++;
  if (word[j] === 'r') j++;
  return { onset: word.slice(0, i), nucleus: word.slice(i, j), rest: word.slice(j) };
}

export type EditKind = 'onset' | 'vowel' | 'coda' | 'onset+vowel';

/** Spelling-level neighbours of one word (may include nonsense words; phonemes judge them later). */
export function spellingNeighbours(word: string): Map<string, EditKind> {
  const out = new Map<string, EditKind>();
  const add = (w: string, kind: EditKind): void => {
    if (w !== word && w.length >= 2 && VOWEL_LETTERS.test(w) && !out.has(w)) out.set(w, kind);
  };
  const { onset, nucleus, rest } = syllableParts(word);
  if (nucleus === '') return out;
  for (const o of ONSETS) add(o + nucleus + rest, 'onset');
  for (const n of NUCLEI) add(onset + n + rest, 'vowel');
  const coda = /[^aeiouy]*$/.exec(word)?.[0] ?? '';
  const stem = word.slice(0, word.length - coda.length);
  // Only a coda that is there is swapped: `heyb` for `hey` is not a word anyone says.
  if (coda !== '' && stem.length > 0) for (const c of CODAS) add(stem + c, 'coda');
  for (const o of ONSETS) for (const n of SHORT_NUCLEI) add(o + n + rest, 'onset+vowel');
  return out;
}

export function normalisePhrase(phrase: string): string {
  return phrase
    .toLowerCase()
    .replace(/_/g, ' ')
    .replace(/[^a-z' ]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export interface Candidate {
  text: string;
  source: NearMissSource;
  /** Which word of the phrase was changed, and how (`lexicon`: replaced by a real word). */
  group: string;
}

/** Every candidate near-miss of a phrase, before phonemes judge them. */
export function phraseCandidates(phrase: string): Candidate[] {
  const words = normalisePhrase(phrase).split(' ');
  const target = words.join(' ');
  const found = new Map<string, Candidate>();
  const add = (text: string, source: NearMissSource, group: string): void => {
    if (text !== target && text !== '' && !found.has(text)) found.set(text, { text, source, group });
  };
  if (words.length > 1) {
    for (const w of words) add(w, 'structure', 'structure');
    add(words.slice(1).join(' '), 'structure', 'structure');
    for (const a of ATTENTION_WORDS)
      if (a !== words[0]) add([a, ...words.slice(1)].join(' '), 'structure', 'structure');
  }
  words.forEach((word, i) => {
    const swap = (w: string): string => [...words.slice(0, i), w, ...words.slice(i + 1)].join(' ');
    const lexicon = new Set(LEXICON);
    for (const [w, kind] of spellingNeighbours(word)) {
      add(swap(w), lexicon.has(w) ? 'lexicon' : 'edit', `${i}:${kind}`);
    }
    // Real words of about the same length; the phonemes decide which are near.
    for (const w of LEXICON)
      if (Math.abs(w.length - word.length) <= 3) add(swap(w), 'lexicon', `${i}:lexicon`);
  });
  return [...found.values()];
}

const MULTI_CHAR_PHONEMES = [
  'aI@', 'aU@', 'i@3', 'A@', 'A:', 'aI', 'aU', 'a#', 'a2', '3:', 'e@', 'eI', 'e#', 'i:', 'i@', 'I#', 'I2',
  'I@', 'O:', 'O@', 'OI', 'o@', 'oU', 'u:', 'U@', '@L', '@2', '@5', '0#', 'tS', 'dZ', 'n-', 'l-', 'r-',
]; // prettier-ignore
const VOWEL_START = /^[aeiouAEIOUV03@]/;
/** Voiced/voiceless twins and the nasals: confusable at a distance, so half an edit. */
const TWINS = ['p b', 't d', 'k g', 'f v', 's z', 'S Z', 'T D', 'tS dZ', 'm n', 'n N'].map((p) =>
  p.split(' '),
);

/** espeak-ng mnemonics -> phonemes, stress marks and word breaks dropped. */
export function tokenizePhonemes(mnemonics: string): string[] {
  const s = mnemonics.replace(/[',%=_|\s]/g, '');
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const multi = MULTI_CHAR_PHONEMES.find((p) => s.startsWith(p, i));
    const token = multi ?? s[i] ?? '';
    out.push(token);
    i += token.length;
  }
  return out;
}

function substitutionCost(a: string, b: string): number {
  if (a === b) return 0;
  const va = VOWEL_START.test(a);
  if (va && VOWEL_START.test(b)) return 0.5;
  if (TWINS.some(([x, y]) => (a === x && b === y) || (a === y && b === x))) return 0.5;
  return 1;
}

/** Weighted edit distance between phoneme sequences (see the module comment). */
export function phonemeDistance(
  a: readonly string[],
  b: readonly string[],
  /** What inserting or deleting a phoneme costs; 1 by default. */
  indelCost: (phoneme: string) => number = () => 1,
): number {
  let prev = [0];
  for (let j = 1; j <= b.length; j++) prev[j] = (prev[j - 1] ?? 0) + indelCost(b[j - 1] ?? '');
  for (let i = 1; i <= a.length; i++) {
    const del = indelCost(a[i - 1] ?? '');
    const row = [(prev[0] ?? 0) + del];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (prev[j] ?? 0) + del,
        (row[j - 1] ?? 0) + indelCost(b[j - 1] ?? ''),
        (prev[j - 1] ?? 0) + substitutionCost(a[i - 1] ?? '', b[j - 1] ?? ''),
      );
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

export interface NearMissOptions {
  /** How many edited or lexicon near-misses to keep (structural ones are all kept). Default 36. */
  limit?: number;
  /** Farthest an edited or lexicon candidate may be. Default 2.5. */
  maxDistance?: number;
}

export async function nearMisses(
  phrase: string,
  phonemize: Phonemizer,
  options: NearMissOptions = {},
): Promise<NearMiss[]> {
  const limit = options.limit ?? 36;
  const maxDistance = options.maxDistance ?? 2.5;
  const target = normalisePhrase(phrase);
  const candidates = phraseCandidates(target);
  // All candidates in the first accent; only the plausible ones in the others (espeak-ng takes a
  // millisecond or two a line, and most candidates are far from the phrase).
  const [firstAccent = 'en-us', ...otherAccents] = PHONEMIZER_ACCENTS;
  const first = (await phonemize([target, ...candidates.map((c) => c.text)], firstAccent)).map(
    tokenizePhonemes,
  );
  const targetFirst = first[0] ?? [];
  let scored = candidates.map((c, k) => {
    const phonemes = first[k + 1] ?? [];
    return { ...c, distance: phonemeDistance(targetFirst, phonemes), sound: phonemes.join(' ') };
  });
  scored = scored.filter((c) => c.source === 'structure' || c.distance <= maxDistance + 1);
  for (const accent of otherAccents) {
    const other = (await phonemize([target, ...scored.map((c) => c.text)], accent)).map(tokenizePhonemes);
    scored = scored.map((c, k) => ({
      ...c,
      distance: Math.min(c.distance, phonemeDistance(other[0] ?? [], other[k + 1] ?? [])),
    }));
  }
  // A candidate's group names the word it changes: `${word index}:...`.
  const main = target.split(' ').indexOf(mainWord(target));
  const close = (c: (typeof scored)[number]): boolean =>
    tooClose(c.distance, !c.group.startsWith(`${main}:`));
  // One spelling per pronunciation, and never the phrase's own sound (a homophone is a positive).
  const sounds = new Set<string>([targetFirst.join(' ')]);
  const kept: NearMiss[] = [];
  const keep = (c: (typeof scored)[number]): void => {
    sounds.add(c.sound);
    kept.push({ text: c.text, distance: c.distance, source: c.source });
  };
  for (const c of scored) if (c.source === 'structure' && !close(c) && !sounds.has(c.sound)) keep(c);
  // Take turns between the groups (each word's onset, vowel, coda, onset+vowel and lexicon swaps),
  // each group closest first and real words before made-up ones, so no one kind of change crowds
  // out the others.
  const rank: Record<NearMissSource, number> = { lexicon: 0, edit: 1, structure: 2 };
  const groups = new Map<string, (typeof scored)[number][]>();
  for (const c of scored) {
    if (c.source === 'structure' || close(c) || c.distance > maxDistance) continue;
    groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  }
  // The main word's groups take three turns to the others' one.
  const queues = [...groups.entries()]
    .sort(([a], [b]) => cmp(a, b))
    .flatMap(([group, list]) => {
      list.sort((a, b) => rank[a.source] - rank[b.source] || a.distance - b.distance || cmp(a.text, b.text));
      return group.startsWith(`${main}:`) ? [list, list, list] : [list];
    });
  let taken = 0;
  while (taken < limit && queues.some((q) => q.length > 0)) {
    for (const q of queues) {
      let c = q.shift();
      while (c !== undefined && sounds.has(c.sound)) c = q.shift();
      if (c === undefined || taken >= limit) continue;
      keep(c);
      taken++;
    }
  }
  return kept;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
