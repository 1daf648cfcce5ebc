/**
 * The voices data is spoken in, from three synthesisers, and the split each voice belongs to:
 * - espeak-ng: every English voice (accent) times every voice variant (timbre: m1..m8, f1..f5,
 *   klatt, whisper, croak, ...), and the voices of other languages that read the English words by
 *   their own letter-to-sound rules (German "h'aI kv'ark", Spanish "'eI kw'ark": how many speakers
 *   of those languages say them), each with a few variants of its own split;
 * - flite: its built-in English voices (awb, rms, slt, kal, kal16), each with many prosody draws;
 * - festival: its voices for other languages reading the English words, with prosody draws.
 * Every synthesiser gives voices to each split, so the test figures can be told per synthesiser.
 *
 * espeak-ng's English voices:
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
import { hashString } from './prng.js';

export type Split = 'train' | 'val' | 'test';

export type Engine = 'espeak' | 'flite' | 'festival';
export const ENGINES: readonly Engine[] = ['espeak', 'flite', 'festival'];

export interface Voice {
  engine: Engine;
  /**
   * espeak-ng: the language name, e.g. `en-us`, `en-gb-x-rp`, `de`; flite: its voice (`awb`);
   * festival: its voice without `voice_` (`lp_diphone`).
   */
  accent: string;
  /**
   * espeak-ng: the variant file name under `!v/`, e.g. `f3`, `klatt2`, `Mr serious`; `''` is the
   * plain voice. flite and festival: `p00`, `p01`, ...: one draw of speed and pitch each, the same
   * speaker.
   */
  variant: string;
}

/** flite's built-in voices and their splits: kal and kal16 are one speaker, so in one split. */
export const FLITE_VOICES: Readonly<Record<string, Split>> = {
  awb: 'train',
  rms: 'val',
  kal: 'test',
  kal16: 'test',
  slt: 'test',
};

/**
 * festival's voices of other languages (Debian festvox-*), their splits, and the espeak-ng language
 * whose phonemes stand in for theirs when near-misses are judged per voice (near-miss-voice.ts).
 * Left out: the Hindi, Marathi and Telugu NSK voices (Debian's packages fail to load: missing phone
 * set files), and every English festival voice (kept for evaluation, never installed).
 */
export const FESTIVAL_VOICES: Readonly<Record<string, { split: Split; espeak: string }>> = {
  upc_ca_ona_hts: { split: 'train', espeak: 'ca' },
  czech_dita: { split: 'train', espeak: 'cs' },
  czech_machac: { split: 'train', espeak: 'cs' },
  suo_fi_lj_diphone: { split: 'train', espeak: 'fi' },
  lp_diphone: { split: 'train', espeak: 'it' },
  czech_krb: { split: 'val', espeak: 'cs' },
  msu_ru_nsh_clunits: { split: 'val', espeak: 'ru' },
  czech_ph: { split: 'test', espeak: 'cs' },
  pc_diphone: { split: 'test', espeak: 'it' },
  hy_fi_mv_diphone: { split: 'test', espeak: 'fi' },
};

/**
 * espeak-ng languages of Latin script whose own rules read the English words into something a
 * speaker of that language says (checked with `espeak-ng -x`: no switch to English, no spelling out,
 * no dropped consonant), and the held-out ones.
 */
export const OTHER_LANGUAGES: Readonly<Record<string, Split>> = {
  ...Object.fromEntries(
    ['an', 'az', 'bs', 'ca', 'cs', 'da', 'eo', 'es', 'et', 'eu', 'fi', 'gd', 'ht', 'hu', 'ia', 'io',
     'kl', 'ku', 'la', 'lb', 'lt', 'ltg', 'lv', 'nb', 'pap', 'pt', 'pt-br', 'qu', 'sk', 'sl', 'sq',
     'sr', 'sv', 'ug', 'uz'].map((l) => [l, 'train']), // prettier-ignore
  ),
  ...Object.fromEntries(['es-419', 'nl', 'hr', 'ms', 'cy'].map((l) => [l, 'val'])),
  ...Object.fromEntries(['de', 'it', 'pl', 'tr', 'sw', 'id', 'ro'].map((l) => [l, 'test'])),
};
/** Variants per other-language voice (drawn from its split's own variants), besides the plain one. */
export const OTHER_LANGUAGE_VARIANTS = 3;
/** Prosody draws per flite and festival voice. */
export const PROSODY_VARIANTS = { flite: 32, festival: 24 } as const;

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
  if (voice.engine === 'flite') return FLITE_VOICES[voice.accent] ?? 'train';
  if (voice.engine === 'festival') return FESTIVAL_VOICES[voice.accent]?.split ?? 'train';
  const other = OTHER_LANGUAGES[voice.accent];
  if (other !== undefined) return other;
  if (TEST_ACCENTS.includes(voice.accent) || TEST_VARIANTS.includes(voice.variant)) return 'test';
  if (VAL_ACCENTS.includes(voice.accent) || VAL_VARIANTS.includes(voice.variant)) return 'val';
  return 'train';
}

/** The argument of `espeak-ng -v` (espeak-ng voices only). */
export function espeakVoice(voice: Voice): string {
  return voice.variant === '' ? voice.accent : `${voice.accent}+${voice.variant}`;
}

/** The name its synthesiser takes the voice by. */
export function synthVoice(voice: Voice): string {
  return voice.engine === 'espeak' ? espeakVoice(voice) : voice.accent;
}

/** A voice's name everywhere else: `en-us+f3` for espeak-ng, `flite:awb+p03`, `festival:lp_diphone+p01`. */
export function voiceName(voice: Voice): string {
  return voice.engine === 'espeak' ? espeakVoice(voice) : `${voice.engine}:${voice.accent}+${voice.variant}`;
}

/** The speaker, without the prosody draw or variant: `en-us`, `flite:awb`, `festival:lp_diphone`. */
export function speakerOf(voice: Voice): string {
  return voice.engine === 'espeak' ? voice.accent : `${voice.engine}:${voice.accent}`;
}

/**
 * The espeak-ng voice whose phonemes judge which near-misses this voice may say: itself, the
 * language a festival voice speaks, and American English for flite's English voices.
 */
export function judgeVoice(voice: Voice): string {
  if (voice.engine === 'espeak') return espeakVoice(voice);
  if (voice.engine === 'festival') return FESTIVAL_VOICES[voice.accent]?.espeak ?? 'en-us';
  return 'en-us';
}

/** For file names: `en-us+Mr serious` -> `en-us+Mr_serious`, `flite:awb+p03` -> `flite_awb+p03`. */
export function voiceSlug(voice: Voice): string {
  return voiceName(voice).replace(/[^A-Za-z0-9+-]/g, '_');
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

/** Every English accent with the plain voice and every variant (espeak-ng). */
export function allVoices(list: VoiceList): Voice[] {
  return list.accents.flatMap((accent) =>
    ['', ...list.variants].map((variant) => ({ engine: 'espeak' as const, accent, variant })),
  );
}

/** The variants of a split: the held-out lists, or every other variant for train. */
function variantsOf(split: Split, all: readonly string[]): string[] {
  if (split === 'test') return all.filter((v) => TEST_VARIANTS.includes(v));
  if (split === 'val') return all.filter((v) => VAL_VARIANTS.includes(v));
  return all.filter((v) => !TEST_VARIANTS.includes(v) && !VAL_VARIANTS.includes(v));
}

/**
 * The voices of the other synthesisers and languages that are installed: espeak-ng's other
 * languages (`languages`, from `espeak-ng --voices`) with the plain voice and OTHER_LANGUAGE_VARIANTS
 * variants of the language's split; flite's and festival's voices with their prosody draws.
 */
export function otherVoices(
  installed: { languages: readonly string[]; flite: readonly string[]; festival: readonly string[] },
  variants: readonly string[],
): Voice[] {
  const out: Voice[] = [];
  for (const language of Object.keys(OTHER_LANGUAGES).sort()) {
    if (!installed.languages.includes(language)) continue;
    const pool = variantsOf(OTHER_LANGUAGES[language] ?? 'train', variants).filter((v) => v !== '');
    const picked = new Set<string>();
    for (let k = 0; picked.size < Math.min(OTHER_LANGUAGE_VARIANTS, pool.length); k++) {
      picked.add(pool[hashString(`${language}:${k}`) % pool.length] ?? '');
    }
    for (const variant of ['', ...[...picked].sort()])
      out.push({ engine: 'espeak', accent: language, variant });
  }
  const draws = (engine: 'flite' | 'festival', names: readonly string[], known: readonly string[]): void => {
    for (const name of known.filter((n) => names.includes(n)).sort()) {
      for (let p = 0; p < PROSODY_VARIANTS[engine]; p++) {
        out.push({ engine, accent: name, variant: `p${String(p).padStart(2, '0')}` });
      }
    }
  };
  draws('flite', installed.flite, Object.keys(FLITE_VOICES));
  draws('festival', installed.festival, Object.keys(FESTIVAL_VOICES));
  return out;
}
