/**
 * The voices data is spoken in: every English espeak-ng voice (accent) times every voice variant
 * (timbre: m1..m8, f1..f5, klatt, whisper, croak, ...), and the split each combination belongs to.
 *
 * The split is by voice, so the figures on `val` and `test` are for voices the training never heard:
 * - test: every variant of the Caribbean accent (en-029), and TEST_VARIANTS in every accent;
 * - val:  every remaining variant of the West Midlands accent (en-gb-x-gbcwmd), and VAL_VARIANTS in
 *   every remaining accent;
 * - train: the rest.
 * A combination that matches both (en-gb-x-gbcwmd+f2) is `test`, so no voice is in two splits, and
 * training sees neither a held-out accent nor a held-out variant in any accent.
 *
 * mbrola voices (mb/*) are left out: they need the mbrola program and its voice files, which the build
 * host does not have; `listEnglishVoices` says so in its `skipped` list.
 */
export type Split = 'train' | 'val' | 'test';

export interface Voice {
  /** The espeak-ng language name, e.g. `en-us`, `en-gb-x-rp`. */
  accent: string;
  /** The variant file name under `!v/`, e.g. `f3`, `klatt2`, `Mr serious`; `''` is the plain voice. */
  variant: string;
}

export const TEST_ACCENTS: readonly string[] = ['en-029'];
export const VAL_ACCENTS: readonly string[] = ['en-gb-x-gbcwmd'];
/** Held out for evaluation: a spread of male, female, klatt, whispered and character voices. */
export const TEST_VARIANTS: readonly string[] = [
  'f2',
  'm3',
  'm7',
  'klatt3',
  'whisperf',
  'croak',
  'Annie',
  'Andy',
  'grandma',
  'Storm',
];
/** Held out to choose the threshold. */
export const VAL_VARIANTS: readonly string[] = [
  'f4',
  'm6',
  'klatt2',
  'whisper',
  'Alicia',
  'Lee',
  'aunty',
  'robert',
];

export function splitOf(voice: Voice): Split {
  if (TEST_ACCENTS.includes(voice.accent) || TEST_VARIANTS.includes(voice.variant)) return 'test';
  if (VAL_ACCENTS.includes(voice.accent) || VAL_VARIANTS.includes(voice.variant)) return 'val';
  return 'train';
}

/** The argument of `espeak-ng -v`. */
export function espeakVoice(voice: Voice): string {
  return voice.variant === '' ? voice.accent : `${voice.accent}+${voice.variant}`;
}

/** For file names: `en-us+Mr serious` -> `en-us+Mr_serious`. */
export function voiceSlug(voice: Voice): string {
  return espeakVoice(voice).replace(/[^A-Za-z0-9+-]/g, '_');
}

export interface VoiceList {
  accents: string[];
  variants: string[];
  /** Voices listed by espeak-ng but not used, with why. */
  skipped: string[];
}

/**
 * Parses `espeak-ng --voices=en` and `espeak-ng --voices=variant`. Columns: Pty, Language,
 * Age/Gender, VoiceName, File, Other Languages; File may hold a space (`!v/Mr serious`).
 */
export function parseVoiceLists(englishListing: string, variantListing: string, mbrola: boolean): VoiceList {
  const accents = new Set<string>();
  const skipped: string[] = [];
  for (const line of englishListing.split('\n')) {
    const m = /^\s*\d+\s+(\S+)\s+\S+\s+(\S+)\s+(\S+)/.exec(line);
    if (m === null) continue;
    const [, language = '', name = '', file = ''] = m;
    if (!language.startsWith('en')) continue;
    if (file.startsWith('gmw/')) accents.add(language);
    else if (file.startsWith('mb/') && !mbrola) skipped.push(`${name} (${file}: mbrola is not installed)`);
    else if (file.startsWith('mb/')) skipped.push(`${name} (${file}: mbrola voices are not used yet)`);
  }
  const variants = new Set<string>();
  for (const line of variantListing.split('\n')) {
    const m = /^\s*\d+\s+variant\s+\S+\s+\S+\s+!v\/(.+?)\s*(\(.*\))?\s*$/.exec(line);
    if (m?.[1] !== undefined) variants.add(m[1]);
  }
  return {
    accents: [...accents].sort(),
    variants: [...variants].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    skipped,
  };
}

/** Every accent with the plain voice and every variant. */
export function allVoices(list: VoiceList): Voice[] {
  return list.accents.flatMap((accent) => ['', ...list.variants].map((variant) => ({ accent, variant })));
}
