import { describe, expect, it } from 'vitest';
import {
  formatWakeDataIndex,
  parseWakeDataIndex,
  type WakeDataIndex,
} from '../../../../firmware-ts/src/wake-train/data/dataset.js';
import {
  conditionOf,
  fileOf,
  NEAR_MISS_WEIGHT,
  planClips,
  SIZE_PLANS,
  SYNTHS,
  type ClipSpec,
} from '../../../../firmware-ts/src/wake-train/data/plan.js';
import {
  espeakVoice,
  otherVoices,
  splitOf,
  type Voice,
} from '../../../../firmware-ts/src/wake-train/data/voices.js';

const accents = ['en-029', 'en-gb', 'en-gb-x-gbcwmd', 'en-gb-x-rp', 'en-us'];
const variants = ['', 'f2', 'f3', 'f4', 'klatt', 'm1', 'm3', 'm6', 'croak', 'whisper'];
const voices: Voice[] = accents.flatMap((accent) =>
  variants.map((variant) => ({ engine: 'espeak' as const, accent, variant })),
);
const nearMisses = ['hey clark', 'hey cork', 'okay quark', 'quark', 'hey'];
const plan = (seed: number, size: 'smoke' | 'full' = 'smoke'): ClipSpec[] =>
  planClips({ phrase: 'hey quark', seed, plan: SIZE_PLANS[size], voices, nearMisses });

describe('planClips', () => {
  it('is a function of the seed', () => {
    expect(plan(1)).toEqual(plan(1));
    expect(JSON.stringify(plan(1))).not.toBe(JSON.stringify(plan(2)));
    expect(plan(1, 'full').map((c) => fileOf(c, 1))).toEqual(plan(1, 'full').map((c) => fileOf(c, 1)));
  });

  it('splits by voice: each voice in one split, and the split its voice belongs to', () => {
    const splits = new Map<string, Set<string>>();
    for (const c of plan(1, 'full')) {
      if (c.speech === undefined) continue;
      expect(c.split).toBe(splitOf(c.speech.voice));
      const key = espeakVoice(c.speech.voice);
      splits.set(key, (splits.get(key) ?? new Set()).add(c.split));
    }
    expect(splits.size).toBe(voices.length);
    for (const s of splits.values()) expect(s.size).toBe(1);
  });

  it('uses a sample of each split from each synthesiser for smoke, and every voice for full', () => {
    const mixed: Voice[] = [
      ...voices,
      ...otherVoices(
        {
          languages: ['de', 'es', 'nl', 'pl'],
          flite: ['awb', 'rms', 'slt'],
          festival: ['lp_diphone', 'czech_krb', 'pc_diphone'],
        },
        variants,
      ),
    ];
    const clipsOf = (size: 'smoke' | 'full'): ClipSpec[] =>
      planClips({ phrase: 'hey quark', seed: 1, plan: SIZE_PLANS[size], voices: mixed, nearMisses });
    const voicesOf = (clips: ClipSpec[], split: string, synth?: string): Set<string> =>
      new Set(
        clips
          .filter(
            (c) => c.speech !== undefined && c.split === split && (synth === undefined || c.synth === synth),
          )
          .map((c) => `${c.voice}+${c.variant}`),
      );
    const smoke = clipsOf('smoke');
    const counts = SIZE_PLANS.smoke.voices;
    if (counts === 'all') throw new Error('smoke uses a sample');
    for (const synth of SYNTHS) {
      expect(voicesOf(smoke, 'train', synth).size).toBe(counts.train);
      expect(voicesOf(smoke, 'val', synth).size).toBe(counts.val);
      expect(voicesOf(smoke, 'test', synth).size).toBe(counts.test);
    }
    const full = clipsOf('full');
    const all = new Set([...voicesOf(full, 'train'), ...voicesOf(full, 'val'), ...voicesOf(full, 'test')]);
    expect(all.size).toBe(mixed.length);
  });

  it('makes positives of the phrase, alone and with a question, and weighs near-misses more', () => {
    const clips = plan(1);
    const pos = clips.filter((c) => c.label === 'pos');
    expect(pos.every((c) => c.speech?.text === 'hey quark')).toBe(true);
    expect(pos.filter((c) => c.kind === 'phrase+question').every((c) => c.speech?.then !== undefined)).toBe(
      true,
    );
    const near = clips.filter((c) => c.kind === 'near-miss');
    expect(near.length).toBeGreaterThan(0);
    expect(near.every((c) => c.label === 'neg' && c.weight === NEAR_MISS_WEIGHT)).toBe(true);
    expect(near.every((c) => nearMisses.includes(c.speech?.text ?? ''))).toBe(true);
    // Round-robin: every near-miss is used.
    expect(new Set(near.map((c) => c.speech?.text)).size).toBe(nearMisses.length);
    for (const kind of ['speech', 'noise', 'silence', 'tone', 'music']) {
      expect(clips.some((c) => c.kind === kind && c.label === 'neg')).toBe(true);
    }
  });

  it('never says the phrase in ordinary speech', () => {
    for (const c of plan(3, 'full').filter((c) => c.kind === 'speech')) {
      expect(c.speech?.text).not.toMatch(/quark/);
    }
  });

  it('augments positives and negatives alike', () => {
    const share = (clips: ClipSpec[], condition: string): number =>
      clips.filter((c) => c.speech !== undefined && conditionOf(c.speech.augment) === condition).length /
      clips.length;
    const clips = plan(1, 'full');
    const pos = clips.filter((c) => c.label === 'pos');
    const neg = clips.filter((c) => c.label === 'neg' && c.speech !== undefined);
    for (const condition of ['clean', 'noise', 'reverb', 'noise+reverb']) {
      expect(Math.abs(share(pos, condition) - share(neg, condition))).toBeLessThan(0.1);
    }
  });

  it('names files by split, label, kind and condition, unique per clip', () => {
    const files = plan(1, 'full').map((c) => fileOf(c, 1));
    expect(new Set(files).size).toBe(files.length);
    for (const f of files)
      expect(f).toMatch(/^(train|val|test)\/(pos|neg)\/[a-z+-]+\/([a-z+]+\/)?[^/]+-[0-9a-f]{8}\.wav$/);
    // The generator version is part of the name: a new version never reuses old clips.
    expect(fileOf(plan(1)[0]!, 2)).not.toBe(fileOf(plan(1)[0]!, 1));
  });
});

describe('the index file', () => {
  const index: WakeDataIndex = {
    version: 1,
    phrase: 'hey quark',
    seed: 1,
    size: 'smoke',
    tools: 'espeak-ng 1.51\nsox 14.4.2',
    voices: { train: ['en-us+m1'], val: ['en-gb-x-gbcwmd'], test: ['en-029+f2'] },
    skippedVoices: [],
    nearMisses: ['hey clark'],
    clips: [
      {
        file: 'train/pos/phrase/clean/en-us+m1_0-0123abcd.wav',
        label: 'pos',
        kind: 'phrase',
        voice: 'en-us',
        variant: 'm1',
        split: 'train',
        seconds: 1.5,
        weight: 1,
        phraseEndSeconds: 1.1,
        text: 'hey quark',
        augment: 'level -20 dBFS',
      },
    ],
  };

  it('round-trips, byte for byte', () => {
    const text = formatWakeDataIndex(index);
    expect(parseWakeDataIndex(text, 'index.json')).toEqual(index);
    expect(formatWakeDataIndex(parseWakeDataIndex(text, 'index.json'))).toBe(text);
  });

  it('names the file and the field at fault', () => {
    const bad = formatWakeDataIndex(index).replace('"label":"pos"', '"label":"maybe"');
    expect(() => parseWakeDataIndex(bad, '/data/index.json')).toThrow(/\/data\/index\.json: clips\.0\.label/);
    expect(() => parseWakeDataIndex('{', '/data/index.json')).toThrow(/\/data\/index\.json: not valid JSON/);
  });
});
