import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../../firmware-ts/src/audio/wav.js';
import { readWakeDataIndex, type WakeDataIndex } from '../../../firmware-ts/src/wake-train/data/dataset.js';
import { generateWakeData } from '../../../firmware-ts/src/wake-train/data/generate.js';
import { nearMisses } from '../../../firmware-ts/src/wake-train/data/near-miss.js';
import {
  NEAR_MISS_VOICE_RULE,
  nearMissesByVoice,
} from '../../../firmware-ts/src/wake-train/data/near-miss-voice.js';
import type { SizePlan } from '../../../firmware-ts/src/wake-train/data/plan.js';
import { phonemize } from '../../../firmware-ts/src/wake-train/data/tools.js';

/** A tiny set: 4 voices (one of each synthesiser), 4 clips each, and one of each sound. */
const TINY: Partial<SizePlan> = {
  voices: { train: 1, val: 0, test: 0 },
  phraseClips: 1,
  questionClips: 1,
  nearMissClips: 1,
  speechClips: { train: 1, heldOut: 1 },
  sentences: { train: [1, 1], heldOut: [1, 2], other: [1, 1] },
  noiseClips: 1,
  silenceClips: 1,
  toneClips: 1,
  musicClips: 1,
};

async function hashes(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(e.parentPath, e.name);
    if (!e.isFile() || path.includes(`${dir}/.work`)) continue;
    out.set(
      path.slice(dir.length + 1),
      createHash('sha256')
        .update(await fs.readFile(path))
        .digest('hex'),
    );
  }
  return out;
}

describe('generateWakeData (espeak-ng, flite, festival + sox)', () => {
  let root: string;
  let first: WakeDataIndex;
  const progress: string[] = [];

  beforeAll(async () => {
    root = await fs.mkdtemp(join(tmpdir(), 'wake-data-'));
    first = await generateWakeData({
      phrase: 'hey quark',
      seed: 7,
      size: 'smoke',
      dir: join(root, 'a'),
      plan: TINY,
      onProgress: (p) => progress.push(`${p.stage} ${p.done}/${p.total}`),
    });
  });
  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('writes 16 kHz mono 16-bit WAVs that match the index', async () => {
    expect(first.clips).toHaveLength(4 * 4 + 4);
    expect(await readWakeDataIndex(join(root, 'a'))).toEqual(first);
    for (const c of first.clips) {
      const buf = await fs.readFile(join(root, 'a', c.file));
      const wav = decodeWav(buf, c.file);
      expect([wav.sampleRateHz, wav.channels, wav.bitsPerSample]).toEqual([16000, 1, 16]);
      expect(wav.samples.length / 16000).toBeCloseTo(c.seconds, 3);
      expect(c.file.startsWith(`${c.split}/${c.label}/${c.kind}/`)).toBe(true);
      if (c.kind !== 'silence') expect(Math.max(...wav.samples.map(Math.abs))).toBeGreaterThan(0.001);
      if (c.label === 'pos') {
        expect(c.phraseEndSeconds).toBeGreaterThan(0.3);
        expect(c.phraseEndSeconds).toBeLessThan(c.seconds);
      }
    }
    expect(new Set(first.clips.map((c) => c.kind))).toEqual(
      new Set(['phrase', 'phrase+question', 'speech', 'near-miss', 'noise', 'silence', 'tone', 'music']),
    );
    expect(progress).toContain(`clips ${first.clips.length}/${first.clips.length}`);
  });

  it('speaks with every synthesiser: espeak-ng in English and another language, flite, festival', () => {
    const speech = first.clips.filter((c) => c.voice !== 'none');
    expect(new Set(speech.map((c) => c.synth))).toEqual(
      new Set(['espeak-en', 'espeak-other', 'flite', 'festival']),
    );
    expect(speech.some((c) => c.voice.startsWith('flite:'))).toBe(true);
    expect(speech.some((c) => c.voice.startsWith('festival:'))).toBe(true);
  });

  it('keeps each voice in one split', () => {
    const { train, val, test } = first.voices;
    expect([train.length, val.length, test.length]).toEqual([4, 0, 0]);
    expect(new Set([...train, ...val, ...test]).size).toBe(4);
    for (const c of first.clips.filter((c) => c.voice !== 'none')) {
      const name = c.variant === '' ? c.voice : `${c.voice}+${c.variant}`;
      expect(first.voices[c.split]).toContain(name);
    }
  });

  it('gives the same bytes for the same seed, and other bytes for another', async () => {
    await generateWakeData({ phrase: 'hey quark', seed: 7, size: 'smoke', dir: join(root, 'b'), plan: TINY });
    const a = await hashes(join(root, 'a'));
    const b = await hashes(join(root, 'b'));
    expect(a.size).toBe(first.clips.length + 1);
    expect(b).toEqual(a);
    const other = await generateWakeData({
      phrase: 'hey quark',
      seed: 8,
      size: 'smoke',
      dir: join(root, 'c'),
      plan: TINY,
    });
    const c = await hashes(join(root, 'c'));
    const shared = [...c.values()].filter((h) => [...a.values()].includes(h));
    // Only digital silence can come out the same.
    expect(shared.length).toBeLessThanOrEqual(other.clips.filter((x) => x.variant === 'digital').length);
  });

  it('reuses finished clips and remakes only what is missing', async () => {
    const dir = join(root, 'a');
    const before = await hashes(dir);
    const victim = first.clips.find((c) => c.kind === 'phrase+question')!.file;
    const kept = first.clips.find((c) => c.kind === 'speech')!.file;
    const keptTime = (await fs.stat(join(dir, kept))).mtimeMs;
    await fs.rm(join(dir, victim));
    await fs.rm(join(dir, 'index.json'));
    // A clip left half-written by a killed run is not taken for a finished one.
    await fs.writeFile(join(dir, `${victim}.123.tmp`), 'partial');
    const again = await generateWakeData({ phrase: 'hey quark', seed: 7, size: 'smoke', dir, plan: TINY });
    expect(again).toEqual(first);
    expect(await hashes(dir)).toEqual(before);
    expect((await fs.stat(join(dir, kept))).mtimeMs).toBe(keptTime);
  });

  const signal = new AbortController().signal;
  const misses = async (phrase: string): Promise<string[]> =>
    (await nearMisses(phrase, (t, accent) => phonemize(t, accent, signal))).map((m) => m.text);

  it('finds the expected neighbours of "hey quark" and leaves out its homophones', () => {
    // What the generation above worked out (index.json keeps it).
    const m = first.nearMisses;
    expect(m).toEqual(
      expect.arrayContaining(['hey clark', 'hey cork', 'hey quart', 'okay quark', 'quark', 'hey']),
    );
    expect(m).not.toContain('hay quark');
    expect(m).not.toContain('hey quark');
    expect(m).not.toContain('hi quark');
  });

  it('records the per-voice near-miss rule in the index, and follows it', () => {
    expect(first.nearMissVoiceRule).toBe(NEAR_MISS_VOICE_RULE);
    for (const c of first.clips.filter((x) => x.kind === 'near-miss')) {
      expect(c.text?.startsWith('eh quark')).toBe(false);
    }
  });

  it('keeps out, per voice, the near-misses espeak-ng says like the phrase in that voice', async () => {
    const voices = ['en-us', 'en-gb-x-gbcwmd', 'en-gb-x-gbcwmd+f4', 'en-029+m3', 'en-gb-scotland'];
    const { allowed: byVoice, phraseSpellings } = await nearMissesByVoice(
      'hey quark',
      ['eh quark', 'a quark', 'oh quark', 'hey clark', 'hey quirk', 'say quark'],
      voices,
      (t, voice) => phonemize(t, voice, signal),
    );
    // West Midlands drops the h: its "hey quark" is its "eh quark", and a vowel from "a quark".
    for (const v of ['en-gb-x-gbcwmd', 'en-gb-x-gbcwmd+f4'])
      expect(byVoice.get(v)).toEqual(['hey clark', 'hey quirk', 'say quark']);
    for (const v of ['en-us', 'en-029+m3', 'en-gb-scotland'])
      expect(byVoice.get(v)).toEqual(['a quark', 'oh quark', 'hey clark', 'hey quirk', 'say quark']);
    expect(phraseSpellings).toEqual(['eh quark']);
  });

  it('works for other phrases: "hey jarvis"', async () => {
    const m = await misses('hey_jarvis');
    expect(m).toEqual(expect.arrayContaining(['hey jervis', 'hey travis', 'hey service', 'jarvis']));
    expect(m).not.toContain('hay jarvis');
  });
});
