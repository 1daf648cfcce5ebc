import { describe, expect, it } from 'vitest';
import {
  allVoices,
  espeakVoice,
  parseVoiceLists,
  splitOf,
  TEST_ACCENTS,
  TEST_VARIANTS,
  VAL_ACCENTS,
  VAL_VARIANTS,
  voiceSlug,
} from '../../../../firmware-ts/src/wake-train/data/voices.js';

// Excerpts of espeak-ng 1.51's listings.
const ENGLISH = `Pty Language       Age/Gender VoiceName          File                 Other Languages
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 3  en-uk           --/M      english-mb-en1     mb/mb-en1            (en-gb 3)(en 2)
 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)
 5  en-gb-x-rp      --/M      English_(Received_Pronunciation) gmw/en-GB-x-rp       (en-gb 4)(en 5)
 5  en-us           --/M      us-mbrola-2        mb/mb-us2            (en 7)
 5  en-gb-x-gbcwmd  --/M      English_(West_Midlands) gmw/en-GB-x-gbcwmd   (en-gb 9)(en 9)
 5  en-029          --/M      English_(Caribbean) gmw/en-029           (en 10)
 5  variant         --/M      Storm              !v/Storm             (en-us 5)
 5  en-us-nyc       --/M      English_(America,_New_York_City) gmw/en-US-nyc
`;
const VARIANTS = `Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  variant         --/M      Mr_Serious         !v/Mr serious
 5  variant         --/M      Storm              !v/Storm             (en-us 5)
 5  variant         --/F      female2            !v/f2
 5  variant         --/F      female4            !v/f4
 5  variant         --/M      klatt              !v/klatt
 5  variant         70/M      male1              !v/m1
`;

describe('parseVoiceLists', () => {
  const list = parseVoiceLists(ENGLISH, VARIANTS, false);

  it('takes the gmw English voices and every variant', () => {
    expect(list.accents).toEqual(['en-029', 'en-gb', 'en-gb-x-gbcwmd', 'en-gb-x-rp', 'en-us', 'en-us-nyc']);
    expect(list.variants).toEqual(['Mr serious', 'Storm', 'f2', 'f4', 'klatt', 'm1']);
  });

  it('skips mbrola voices and says why', () => {
    expect(list.skipped).toEqual([
      'english-mb-en1 (mb/mb-en1: mbrola is not installed)',
      'us-mbrola-2 (mb/mb-us2: mbrola is not installed)',
    ]);
  });

  it('pairs every accent with the plain voice and every variant', () => {
    const voices = allVoices(list);
    expect(voices).toHaveLength(6 * 7);
    expect(voices.map(espeakVoice)).toContain('en-us+Mr serious');
    expect(voices.map(espeakVoice)).toContain('en-029');
    expect(voiceSlug({ engine: 'espeak', accent: 'en-us', variant: 'Mr serious' })).toBe('en-us+Mr_serious');
  });
});

describe('splitOf', () => {
  const accents = ['en-gb', 'en-us', 'en-gb-x-rp', 'en-029', 'en-gb-x-gbcwmd', 'en-us-nyc', 'en-gb-scotland'];
  const variants = ['', 'm1', 'f3', 'klatt', ...TEST_VARIANTS, ...VAL_VARIANTS];
  const voices = accents.flatMap((accent) =>
    variants.map((variant) => ({ engine: 'espeak' as const, accent, variant })),
  );

  it('holds out whole accents and whole variants', () => {
    for (const v of voices) {
      const split = splitOf(v);
      if (TEST_ACCENTS.includes(v.accent) || TEST_VARIANTS.includes(v.variant)) expect(split).toBe('test');
      else if (VAL_ACCENTS.includes(v.accent) || VAL_VARIANTS.includes(v.variant)) expect(split).toBe('val');
      else expect(split).toBe('train');
    }
  });

  it('never lets training hear a held-out accent or variant', () => {
    const train = voices.filter((v) => splitOf(v) === 'train');
    expect(train.length).toBeGreaterThan(0);
    for (const v of train) {
      expect([...TEST_ACCENTS, ...VAL_ACCENTS]).not.toContain(v.accent);
      expect([...TEST_VARIANTS, ...VAL_VARIANTS]).not.toContain(v.variant);
    }
  });

  it('keeps the held-out lists disjoint', () => {
    expect(TEST_ACCENTS.filter((a) => VAL_ACCENTS.includes(a))).toEqual([]);
    expect(TEST_VARIANTS.filter((a) => VAL_VARIANTS.includes(a))).toEqual([]);
    // A val accent with a test variant is test: no voice is in two splits.
    expect(splitOf({ engine: 'espeak', accent: VAL_ACCENTS[0]!, variant: TEST_VARIANTS[0]! })).toBe('test');
  });
});
