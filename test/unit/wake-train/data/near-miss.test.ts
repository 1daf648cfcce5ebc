import { describe, expect, it } from 'vitest';
import {
  nearMisses,
  normalisePhrase,
  phonemeDistance,
  phraseCandidates,
  spellingNeighbours,
  syllableParts,
  tokenizePhonemes,
  type Phonemizer,
} from '../../../../firmware-ts/src/wake-train/data/near-miss.js';

describe('spelling', () => {
  it('splits a word into onset, vowel and rest', () => {
    expect(syllableParts('quark')).toEqual({ onset: 'qu', nucleus: 'ar', rest: 'k' });
    expect(syllableParts('jarvis')).toEqual({ onset: 'j', nucleus: 'ar', rest: 'vis' });
    expect(syllableParts('hey')).toEqual({ onset: 'h', nucleus: 'ey', rest: '' });
    expect(syllableParts('alexa')).toEqual({ onset: '', nucleus: 'a', rest: 'lexa' });
  });

  it('swaps onsets, vowels and codas', () => {
    const q = spellingNeighbours('quark');
    expect(q.get('clark')).toBe('onset');
    expect(q.get('mark')).toBe('onset');
    expect(q.get('quirk')).toBe('vowel');
    expect(q.get('quart')).toBe('coda');
    expect(q.get('cork')).toBe('onset+vowel');
    expect(q.has('quark')).toBe(false);
    const j = spellingNeighbours('jarvis');
    expect(j.get('jervis')).toBe('vowel');
    expect(j.get('travis')).toBe('onset+vowel');
    // A word that ends in a vowel has no coda to swap.
    expect([...spellingNeighbours('hey').values()]).not.toContain('coda');
  });

  it('makes phrase candidates: one word changed, words alone, other calls to attention', () => {
    const texts = phraseCandidates('hey quark').map((c) => c.text);
    for (const t of [
      'hey clark',
      'hey mark',
      'hey quart',
      'hey cork',
      'okay quark',
      'hey park',
      'quark',
      'hey',
    ]) {
      expect(texts).toContain(t);
    }
    expect(texts).not.toContain('hey quark');
    expect(phraseCandidates('hey_jarvis').map((c) => c.text)).toContain('hey service');
  });

  it('normalises phrases', () => {
    expect(normalisePhrase('Hey_Jarvis!')).toBe('hey jarvis');
    expect(normalisePhrase('  hey   quark ')).toBe('hey quark');
  });
});

describe('phonemes', () => {
  it('tokenises espeak-ng mnemonics, dropping stress', () => {
    expect(tokenizePhonemes("h'eI kw'A@k")).toEqual(['h', 'eI', 'k', 'w', 'A@', 'k']);
    expect(tokenizePhonemes("dZ'A@vIs")).toEqual(['dZ', 'A@', 'v', 'I', 's']);
  });

  it('weighs a vowel for a vowel and a voicing twin at half an edit', () => {
    const d = (a: string, b: string): number => phonemeDistance(tokenizePhonemes(a), tokenizePhonemes(b));
    expect(d("kw'A@k", "kw'A@k")).toBe(0);
    expect(d("kw'A@k", "kl'A@k")).toBe(1); // clark
    expect(d("kw'A@k", "kw'3:k")).toBe(0.5); // quirk
    expect(d("kw'A@k", "k'O@k")).toBe(1.5); // cork
    expect(d("kw'A@k", "kw'A@g")).toBe(0.5); // k -> g
    expect(d("dZ'A@vIs", "s'3:vIs")).toBe(1.5); // service
    expect(d('', 'abc')).toBe(3);
  });
});

describe('nearMisses', () => {
  // A stand-in for espeak-ng: spelling as phonemes, except two homophones of "hey".
  const fake: Phonemizer = (texts) =>
    Promise.resolve(
      texts.map((t) =>
        t
          .replace(/\bhay\b/g, 'hey')
          .replace(/\bhei\b/g, 'hey')
          .replace(/ /g, ''),
      ),
    );

  it('drops homophones of the phrase: they would be positives', async () => {
    const texts = (await nearMisses('hey quark', fake, { limit: 1000 })).map((m) => m.text);
    expect(texts).not.toContain('hay quark');
    expect(texts).not.toContain('hey quark');
    expect(texts).toContain('hey clark');
  });

  it('keeps the structural ones and at most `limit` others, each within maxDistance', async () => {
    const misses = await nearMisses('hey quark', fake, { limit: 10, maxDistance: 2 });
    const structural = misses.filter((m) => m.source === 'structure').map((m) => m.text);
    expect(structural).toEqual(expect.arrayContaining(['hey', 'quark', 'okay quark']));
    const others = misses.filter((m) => m.source !== 'structure');
    expect(others).toHaveLength(10);
    for (const m of others) expect(m.distance).toBeGreaterThan(0);
    for (const m of others) expect(m.distance).toBeLessThanOrEqual(2);
    // One spelling per sound.
    expect(new Set(misses.map((m) => m.text.replace(/ /g, ''))).size).toBe(misses.length);
  });

  it('needs a whole phoneme of change outside the main word, half of one inside it', async () => {
    const words: Record<string, string> = { hey: "h'eI", hi: "h'aI", quark: "kw'A@k", quirk: "kw'3:k" };
    const phonemes: Phonemizer = (texts) =>
      Promise.resolve(
        texts.map((t) =>
          t
            .split(' ')
            .map((w) => words[w] ?? w)
            .join(' '),
        ),
      );
    const texts = (await nearMisses('hey quark', phonemes, { limit: 1000 })).map((m) => m.text);
    expect(texts).toContain('hey quirk'); // a vowel in "quark": a near-miss
    expect(texts).not.toContain('hi quark'); // a vowel in "hey": how people say the phrase
  });

  it('is deterministic', async () => {
    expect(await nearMisses('hey jarvis', fake)).toEqual(await nearMisses('hey jarvis', fake));
  });
});
