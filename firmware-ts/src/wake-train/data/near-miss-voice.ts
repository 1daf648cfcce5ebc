/**
 * Near-misses judged per voice: a near-miss that a voice says (almost) exactly like the phrase is a
 * positive in that voice, so it is never rendered in it. One that some voice says with exactly the
 * phrase's phonemes is another spelling of the phrase ("eh quark": the phrase with the h dropped),
 * which training voices also say as positives (plan.ts), so the head hears the phrase said that way
 * in voices it trains on too.
 *
 * The phrase's near-misses are chosen once, on the phonemes of two accents (near-miss.ts). Other
 * accents say some of them like the phrase itself: the West Midlands voice (en-gb-x-gbcwmd) drops the
 * h, so its "hey quark" is `'eI kw'A@k`, the same phonemes as its "eh quark", and its "a quark" and
 * "oh quark" are a vowel away. Rendered as negatives in that voice, they teach the head to reject the
 * phrase as that voice says it, and they push the threshold chosen on held-out voices towards 1.
 *
 * Rule (NEAR_MISS_VOICE_RULE), for each voice a near-miss would be rendered in: the phrase and the
 * near-miss are turned into phonemes by espeak-ng in that voice (`espeak-ng -q -x -v accent+variant`;
 * a variant may change the language, as `Storm` does), and their distance is measured as in
 * near-miss.ts, except that inserting or deleting /h/ costs half an edit (h-dropping is an accent, not
 * a different word). The near-miss is dropped in that voice if the distance is 0, or if it keeps the
 * phrase's main word and the distance is under one phoneme: the same test near-miss.ts applies in
 * its two accents, applied in the voice's own.
 */
import { mainWord, normalisePhrase, phonemeDistance, tokenizePhonemes, tooClose } from './near-miss.js';

/** Part of the data cache key: change it whenever the rule gives other answers. */
export const NEAR_MISS_VOICE_RULE =
  'per voice: drop if distance 0, or < 1 with the main word kept; /h/ insertion or deletion costs 0.5';

/** h-dropping ("'ey quark"): an accent's way of saying the phrase, so half an edit. */
const WEAK_PHONEMES: ReadonlyMap<string, number> = new Map([['h', 0.5]]);

function indelCost(phoneme: string): number {
  return WEAK_PHONEMES.get(phoneme) ?? 1;
}

/** Distance between two espeak-ng mnemonic strings, with /h/ weak (see the module comment). */
export function voiceDistance(phraseMnemonics: string, textMnemonics: string): number {
  return phonemeDistance(tokenizePhonemes(phraseMnemonics), tokenizePhonemes(textMnemonics), indelCost);
}

/**
 * Whether a near-miss sounds like the phrase in one voice, given both texts' phonemes in that voice.
 */
export function collidesInVoice(
  phrase: string,
  nearMiss: string,
  phraseMnemonics: string,
  nearMissMnemonics: string,
): boolean {
  return tooClose(voiceDistance(phraseMnemonics, nearMissMnemonics), keepsMainWord(phrase, nearMiss));
}

function keepsMainWord(phrase: string, nearMiss: string): boolean {
  return normalisePhrase(nearMiss).split(' ').includes(mainWord(phrase));
}

/** Phonemes of each text (one line each) in one espeak-ng voice (`accent` or `accent+variant`). */
export type VoicePhonemizer = (texts: readonly string[], voice: string) => Promise<string[]>;

export interface VoiceJudgement {
  /** For each voice, the near-misses that may be rendered in it, in the order given. */
  allowed: Map<string, string[]>;
  /**
   * Near-misses that some voice says with exactly the phrase's phonemes ("eh quark" in the West
   * Midlands voice, which drops the h): other spellings of the phrase as an accent says it.
   */
  phraseSpellings: string[];
}

/** Judges every near-miss in every voice (see the module comment). */
export async function nearMissesByVoice(
  phrase: string,
  nearMisses: readonly string[],
  voices: readonly string[],
  phonemize: VoicePhonemizer,
  run: (voices: readonly string[], fn: (voice: string) => Promise<void>) => Promise<void> = async (
    vs,
    fn,
  ) => {
    for (const v of vs) await fn(v);
  },
): Promise<VoiceJudgement> {
  const target = normalisePhrase(phrase);
  const texts = nearMisses.map(normalisePhrase);
  const keepsMain = texts.map((t) => keepsMainWord(target, t));
  const distinctVoices = [...new Set(voices)];
  const out = new Map<string, string[]>();
  const same = new Set<string>();
  await run(distinctVoices, async (voice) => {
    const [p = '', ...others] = await phonemize([target, ...texts], voice);
    const distances = texts.map((_, k) => voiceDistance(p, others[k] ?? ''));
    out.set(
      voice,
      nearMisses.filter((_, k) => !tooClose(distances[k] ?? 0, keepsMain[k] ?? false)),
    );
    nearMisses.forEach((m, k) => {
      if (distances[k] === 0) same.add(m);
    });
  });
  // In the order given, whatever order the runs finished in.
  return {
    allowed: new Map(distinctVoices.map((v) => [v, out.get(v) ?? []])),
    phraseSpellings: nearMisses.filter((m) => same.has(m)),
  };
}
