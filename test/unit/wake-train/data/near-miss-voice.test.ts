import { describe, expect, it } from 'vitest';
import {
  collidesInVoice,
  NEAR_MISS_VOICE_RULE,
  nearMissesByVoice,
  voiceDistance,
  type VoicePhonemizer,
} from '../../../../firmware-ts/src/wake-train/data/near-miss-voice.js';
import { mainWord, phonemeDistance } from '../../../../firmware-ts/src/wake-train/data/near-miss.js';
import {
  nearMissFor,
  PHRASE_SPELLING_EVERY,
  planClips,
  SIZE_PLANS,
} from '../../../../firmware-ts/src/wake-train/data/plan.js';
import { espeakVoice, splitOf, type Voice } from '../../../../firmware-ts/src/wake-train/data/voices.js';

/**
 * espeak-ng 1.51's `-q -x` output for these texts, by accent: the West Midlands voice drops the h of
 * "hey"; the Scottish one keeps the r.
 */
const PHONEMES: Record<string, Record<string, string>> = {
  'en-us': {
    'hey quark': "h'eI kw'A@k",
    'eh quark': "'eI kw'A@k",
    'a quark': "a# kw'A@k",
    'oh quark': "'oU kw'A@k",
    'say quark': "s'eI kw'A@k",
    'hey quirk': "h'eI kw'3:k",
    'hey clark': "h'eI kl'A@k",
    quark: "kw'A@k",
  },
  'en-gb-x-gbcwmd': {
    'hey quark': "'eI kw'A@k",
    'eh quark': "'eI kw'A@k",
    'a quark': "a# kw'A@k",
    'oh quark': "'oU kw'A@k",
    'say quark': "s'eI kw'A@k",
    'hey quirk': "'eI kw'3:k",
    'hey clark': "'eI kl'A@k",
    quark: "kw'A@k",
  },
  'en-gb-scotland': {
    'hey quark': "h'eI kw'A@rk",
    'eh quark': "'eI kw'A@rk",
    'a quark': "a# kw'A@rk",
    'oh quark': "'oU kw'A@rk",
    'say quark': "s'eI kw'A@rk",
    'hey quirk': "h'eI kw'3:rk",
    'hey clark': "h'eI kl'A@rk",
    quark: "kw'A@rk",
  },
};
const NEAR_MISSES = ['eh quark', 'a quark', 'oh quark', 'say quark', 'hey quirk', 'hey clark', 'quark'];

const fakePhonemizer =
  (calls: string[] = []): VoicePhonemizer =>
  (texts, voice) => {
    calls.push(voice);
    const accent = voice.split('+')[0] ?? '';
    return Promise.resolve(texts.map((t) => PHONEMES[accent]?.[t] ?? `?${t}`));
  };

describe('the per-voice near-miss rule', () => {
  it('counts a dropped or added /h/ as half an edit, anything else as before', () => {
    expect(voiceDistance("h'eI kw'A@k", "'eI kw'A@k")).toBe(0.5);
    expect(voiceDistance("'eI kw'A@k", "h'eI kw'A@k")).toBe(0.5);
    expect(voiceDistance("h'eI kw'A@k", "s'eI kw'A@k")).toBe(1);
    expect(voiceDistance("h'eI kw'A@k", "h'eI kw'A@k")).toBe(0);
    // The default costs are unchanged for near-miss.ts's own selection.
    expect(phonemeDistance(['h', 'eI'], ['eI'])).toBe(1);
    expect(phonemeDistance(['h', 'eI'], ['eI'], (p) => (p === 'h' ? 0.5 : 1))).toBe(0.5);
  });

  it('takes the longest word as the main one', () => {
    expect(mainWord('hey quark')).toBe('quark');
    expect(mainWord('Hey_Jarvis')).toBe('jarvis');
    expect(mainWord('ok go')).toBe('ok');
  });

  it('drops in the West Midlands voice what that voice says like the phrase', () => {
    const p = PHONEMES['en-gb-x-gbcwmd'] ?? {};
    const collides = (t: string): boolean =>
      collidesInVoice('hey quark', t, p['hey quark'] ?? '', p[t] ?? '');
    // Same phonemes as its "hey quark".
    expect(collides('eh quark')).toBe(true);
    // A vowel away, with "quark" kept: how that voice says the phrase, not another phrase.
    expect(collides('a quark')).toBe(true);
    expect(collides('oh quark')).toBe(true);
    // A whole phoneme away, or a change of the main word: still near-misses.
    expect(collides('say quark')).toBe(false);
    expect(collides('quark')).toBe(false);
    expect(collides('hey quirk')).toBe(false);
    expect(collides('hey clark')).toBe(false);
  });

  it('drops only the h-dropped phrase in accents that say the h (en-us, Scottish)', () => {
    for (const accent of ['en-us', 'en-gb-scotland']) {
      const p = PHONEMES[accent] ?? {};
      const dropped = NEAR_MISSES.filter((t) =>
        collidesInVoice('hey quark', t, p['hey quark'] ?? '', p[t] ?? ''),
      );
      expect(dropped, accent).toEqual(['eh quark']);
    }
  });

  it('drops a homophone of the phrase in any voice, even with the main word changed', () => {
    expect(collidesInVoice('hey quark', 'hey kwark', "h'eI kw'A@k", "h'eI kw'A@k")).toBe(true);
  });

  it('works voice by voice (variants included, as a variant may change the language), in the order given', async () => {
    const calls: string[] = [];
    const voices = ['en-us', 'en-gb-x-gbcwmd+f4', 'en-gb-scotland+m3', 'en-us'];
    const judged = await nearMissesByVoice('hey quark', NEAR_MISSES, voices, fakePhonemizer(calls));
    const byVoice = judged.allowed;
    expect([...byVoice.keys()]).toEqual(['en-us', 'en-gb-x-gbcwmd+f4', 'en-gb-scotland+m3']);
    expect(calls).toEqual(['en-us', 'en-gb-x-gbcwmd+f4', 'en-gb-scotland+m3']);
    expect(byVoice.get('en-gb-x-gbcwmd+f4')).toEqual(['say quark', 'hey quirk', 'hey clark', 'quark']);
    expect(byVoice.get('en-us')).toEqual(NEAR_MISSES.filter((t) => t !== 'eh quark'));
    expect(NEAR_MISS_VOICE_RULE).toMatch(/per voice/);
    // The West Midlands voice says "eh quark" with the phrase's own phonemes: another spelling of it.
    expect(judged.phraseSpellings).toEqual(['eh quark']);
    const usOnly = await nearMissesByVoice('hey quark', NEAR_MISSES, ['en-us'], fakePhonemizer());
    expect(usOnly.phraseSpellings).toEqual([]);
  });
});

describe('near-misses in the plan', () => {
  it('goes round-robin, skipping what the voice may not say', () => {
    const all = ['a', 'b', 'c', 'd'];
    expect(nearMissFor(all, undefined, 5)).toBe('b');
    expect(nearMissFor(all, ['c', 'd'], 5)).toBe('c');
    expect(nearMissFor(all, ['a'], 2)).toBe('a');
    expect(nearMissFor(all, [], 2)).toBeUndefined();
  });

  it('never renders a near-miss in a voice that says it like the phrase', async () => {
    const accents = ['en-us', 'en-gb-x-gbcwmd', 'en-gb-scotland'];
    const variants = ['', 'f2', 'f4', 'm3', 'klatt'];
    const voices: Voice[] = accents.flatMap((accent) =>
      variants.map((variant) => ({ engine: 'espeak' as const, accent, variant })),
    );
    const { allowed: byVoice, phraseSpellings } = await nearMissesByVoice(
      'hey quark',
      NEAR_MISSES,
      voices.map(espeakVoice),
      fakePhonemizer(),
    );
    const input = { phrase: 'hey quark', seed: 3, plan: SIZE_PLANS.full, voices, nearMisses: NEAR_MISSES };
    const clips = planClips({ ...input, nearMissesByVoice: byVoice });
    const said = clips.filter((c) => c.kind === 'near-miss').map((c) => c.speech);
    expect(said).toHaveLength(voices.length);
    for (const s of said) {
      if (s === undefined) throw new Error('a near-miss clip without speech');
      expect(byVoice.get(espeakVoice(s.voice))).toContain(s.text);
      expect(s.text).not.toBe('eh quark');
      if (s.voice.accent === 'en-gb-x-gbcwmd') expect(['a quark', 'oh quark']).not.toContain(s.text);
    }
    // Without the rule the round-robin does put them there: the test means something.
    const unfiltered = planClips(input).filter((c) => c.kind === 'near-miss');
    expect(unfiltered.some((c) => c.speech?.text === 'eh quark')).toBe(true);
    // The same inputs, the same plan.
    expect(planClips({ ...input, nearMissesByVoice: byVoice })).toEqual(clips);
    // The phrase's other spellings are positives, in training voices only, in a share of them.
    const respelt = planClips({ ...input, nearMissesByVoice: byVoice, phraseSpellings }).filter(
      (c) => c.kind === 'phrase' && c.speech?.text === 'eh quark',
    );
    expect(respelt.length).toBeGreaterThan(0);
    expect(respelt.every((c) => c.split === 'train' && c.label === 'pos')).toBe(true);
    const trainVoices = voices.filter((v) => splitOf(v) === 'train').length;
    expect(respelt.length).toBeLessThanOrEqual(Math.ceil(trainVoices / PHRASE_SPELLING_EVERY));
  });
});
