/**
 * What to generate: every clip's recipe, drawn from the seed before anything is rendered. Pure, so
 * the plan (and so the data) is a function of (phrase, seed, size, voices, near-misses) alone.
 *
 * Speech clips, positive and negative alike, are augmented from the same distribution, so noise,
 * reverb or a tempo change never tells a positive from a negative.
 */
import { hashString, Prng } from './prng.js';
import { QUESTIONS, sentence } from './text.js';
import type { RoomSpec } from './room.js';
import { judgeVoice, speakerOf, splitOf, voiceSlug, type Split, type Voice } from './voices.js';
import type { ClipKind, ClipLabel, DataSize } from './dataset.js';
import { normalisePhrase } from './near-miss.js';

export type NoiseKind = 'white' | 'pink' | 'brown' | 'babble';
export const NOISE_KINDS: readonly NoiseKind[] = ['white', 'pink', 'brown', 'babble'];

/** sox `reverb` settings for three rooms: reverberance %, HF damping %, room scale %, pre-delay ms. */
export const ROOMS = {
  small: [30, 60, 25, 0],
  medium: [55, 50, 60, 10],
  large: [85, 30, 100, 20],
} as const;
export type Room = keyof typeof ROOMS;

export interface Augment {
  /** sox `tempo -s`: speech rate without pitch change. */
  tempo?: number;
  /** sox `pitch`, in cents. */
  pitchCents?: number;
  /** Vocal tract length: the formants moved by this factor, the pitch kept (formant.ts). */
  formantWarp?: number;
  /** sox's reverberator, one of three rooms. */
  reverb?: Room;
  /** A room impulse response from the image-source method (room.ts): a place and a distance. */
  room?: RoomSpec;
  /** The glasses' microphones: sox `highpass` and `lowpass`. */
  band?: { highpassHz: number; lowpassHz: number };
  /** Noise under the whole clip at this SNR against the speech; `at` picks where in the noise bed. */
  noise?: { kind: NoiseKind; snrDb: number; at: number };
  /** RMS level of the speech, dBFS. */
  levelDbfs: number;
  leadSeconds: number;
  tailSeconds: number;
}

export interface SpeechSpec {
  voice: Voice;
  speedWpm: number;
  pitch: number;
  wordGap: number;
  /** Said first (the phrase, a near-miss, sentences). */
  text: string;
  /** Said after a pause (the question after the phrase). */
  then?: { text: string; gapSeconds: number };
  augment: Augment;
}

export type SoundSpec =
  | { kind: 'noise'; noise: NoiseKind; levelDbfs: number; at: number; seconds: number }
  | { kind: 'silence'; levelDbfs: number | null; at: number; seconds: number }
  /** sox synth arguments, one sound per channel. */
  | { kind: 'synth'; channels: number; effects: string[]; levelDbfs: number };

export interface ClipSpec {
  /** Unique and stable: the file name is derived from it and the recipe. */
  id: string;
  label: ClipLabel;
  kind: ClipKind;
  split: Split;
  weight: number;
  speech?: SpeechSpec;
  sound?: SoundSpec;
  /** `voice`, `variant` and `synth` of the index entry. */
  voice: string;
  variant: string;
  /** Speech clips: the synthesiser. */
  synth?: Synth;
}

export interface SizePlan {
  /** Voices used per split from each synthesiser (synthOf); `all` for every one. */
  voices: { train: number; val: number; test: number } | 'all';
  /** Only these synthesisers' voices (tests that are about something else keep to one). */
  synths?: readonly Synth[];
  /** Per voice. */
  phraseClips: number;
  questionClips: number;
  nearMissClips: number;
  /** Speech negatives per voice: train voices, and held-out (val, test) voices. */
  speechClips: { train: number; heldOut: number };
  /**
   * The same for the voices of other languages and synthesisers, which are many draws of few
   * speakers: fewer each, so English ordinary speech still makes most of the negative hours.
   */
  otherSpeechClips: { train: number; heldOut: number };
  /**
   * Sentences in a speech negative: train, and the held-out splits (longer, for FA/h); `other` for
   * the held-out speech of the other languages and synthesisers (festival takes a second a sentence).
   */
  sentences: { train: [number, number]; heldOut: [number, number]; other: [number, number] };
  /** Non-speech negatives, over all splits. */
  noiseClips: number;
  silenceClips: number;
  toneClips: number;
  musicClips: number;
}

export const SIZE_PLANS: Record<DataSize, SizePlan> = {
  smoke: {
    voices: { train: 3, val: 1, test: 1 },
    phraseClips: 2,
    questionClips: 1,
    nearMissClips: 2,
    speechClips: { train: 1, heldOut: 1 },
    otherSpeechClips: { train: 1, heldOut: 1 },
    sentences: { train: [1, 2], heldOut: [2, 3], other: [1, 2] },
    noiseClips: 4,
    silenceClips: 2,
    toneClips: 2,
    musicClips: 2,
  },
  full: {
    voices: 'all',
    phraseClips: 2,
    questionClips: 1,
    nearMissClips: 1,
    // About 3.5 h of ordinary negative audio to train on (1.2 h was too little: the head fired on
    // speech it had never heard), and over 2 h in each held-out split, so that 0.5 false accepts an
    // hour is one false accept in two hours there and can be told apart from zero.
    speechClips: { train: 2, heldOut: 2 },
    otherSpeechClips: { train: 1, heldOut: 1 },
    sentences: { train: [2, 4], heldOut: [9, 12], other: [4, 6] },
    noiseClips: 100,
    silenceClips: 20,
    toneClips: 50,
    musicClips: 100,
  },
};

/** Near-misses are the mistakes that matter: they weigh this much more than other negatives. */
export const NEAR_MISS_WEIGHT = 3;

/** Non-speech clips have no voice to split by: each lands in a split by chance. */
const SOUND_SPLITS: readonly [Split, number][] = [
  ['train', 0.7],
  ['val', 0.15],
  ['test', 0.15],
];

function drawSplit(rng: Prng): Split {
  let r = rng.next();
  for (const [split, p] of SOUND_SPLITS) {
    if (r < p) return split;
    r -= p;
  }
  return 'train';
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

/**
 * Augmentation for one speech clip: a fifth are clean; otherwise each effect by its own chance.
 * Reverberation is the condition new voices missed most: nearly half the clips are in a room, two
 * thirds of those in an image-source room (any distance), the rest in sox's reverberator.
 */
export function drawAugment(rng: Prng): Augment {
  const clean = rng.chance(0.2);
  const a: Augment = {
    levelDbfs: round(rng.uniform(-38, -14), 1),
    leadSeconds: round(rng.uniform(0.2, 1.0), 2),
    tailSeconds: round(rng.uniform(0.4, 1.0), 2),
  };
  if (clean) return a;
  if (rng.chance(0.4)) a.tempo = round(rng.uniform(0.85, 1.15), 2);
  if (rng.chance(0.4)) a.pitchCents = Math.round(rng.uniform(-300, 300));
  if (rng.chance(0.5)) a.formantWarp = round(rng.uniform(0.86, 1.18), 3);
  if (rng.chance(0.45)) {
    if (rng.chance(2 / 3)) a.room = drawRoom(rng);
    else a.reverb = rng.pick(Object.keys(ROOMS) as Room[]);
  }
  if (rng.chance(0.5)) {
    a.band = { highpassHz: rng.pick([100, 150, 200]), lowpassHz: rng.pick([5500, 6000, 6500, 7000, 7500]) };
  }
  if (rng.chance(0.65)) {
    a.noise = { kind: rng.pick(NOISE_KINDS), snrDb: round(rng.uniform(0, 20), 1), at: round(rng.next(), 4) };
  }
  return a;
}

/**
 * A room and where the talker is in it: the wearer's own mouth a few centimetres from the glasses
 * (a third), someone across a table, or a talker or a television across the room.
 */
export function drawRoom(rng: Prng): RoomSpec {
  const size: [number, number, number] = [
    round(rng.uniform(2.5, 10), 2),
    round(rng.uniform(2.5, 8), 2),
    round(rng.uniform(2.4, 4), 2),
  ];
  const rt60 = round(rng.uniform(0.15, 0.9), 2);
  const inside = (l: number, margin: number): number => round(rng.uniform(margin, l - margin), 2);
  const mic: [number, number, number] = [inside(size[0], 0.5), inside(size[1], 0.5), round(rng.uniform(1.1, 1.8), 2)];
  const distance = rng.chance(1 / 3) ? rng.uniform(0.05, 0.2) : rng.chance(0.5) ? rng.uniform(0.5, 1.5) : rng.uniform(1.5, 5);
  // A direction drawn until the source lands inside the room (0.2 m from every wall).
  for (let tries = 0; tries < 50; tries++) {
    const azimuth = rng.uniform(0, 2 * Math.PI);
    const elevation = rng.uniform(-0.3, 0.3);
    const source: [number, number, number] = [
      round(mic[0] + distance * Math.cos(azimuth) * Math.cos(elevation), 3),
      round(mic[1] + distance * Math.sin(azimuth) * Math.cos(elevation), 3),
      round(mic[2] + distance * Math.sin(elevation), 3),
    ];
    if (source.every((v, i) => v > 0.2 && v < size[i as 0 | 1 | 2] - 0.2)) return { size, rt60, mic, source };
  }
  return { size, rt60, mic, source: [round(mic[0] + 0.1, 3), mic[1], mic[2]] };
} // prettier-ignore

export function describeAugment(a: Augment): string {
  const parts: string[] = [];
  if (a.tempo !== undefined) parts.push(`tempo ${a.tempo}`);
  if (a.pitchCents !== undefined) parts.push(`pitch ${a.pitchCents > 0 ? '+' : ''}${a.pitchCents} cents`);
  if (a.formantWarp !== undefined) parts.push(`formants x${a.formantWarp}`);
  if (a.reverb !== undefined) parts.push(`reverb ${a.reverb}`);
  if (a.room !== undefined) {
    const d = Math.hypot(...a.room.source.map((v, i) => v - (a.room?.mic[i] ?? 0)));
    parts.push(`room ${a.room.size.join('x')} m RT60 ${a.room.rt60} s at ${d.toFixed(2)} m`);
  }
  if (a.band !== undefined) parts.push(`band ${a.band.highpassHz}-${a.band.lowpassHz} Hz`);
  if (a.noise !== undefined) parts.push(`${a.noise.kind} noise ${a.noise.snrDb} dB SNR`);
  parts.push(`level ${a.levelDbfs} dBFS`);
  return parts.join(', ');
}

/** `clean`, `noise`, `reverb` or `noise+reverb`: the sub-folder, so evaluation reports each. */
export function conditionOf(a: Augment): string {
  const reverb = a.reverb !== undefined || a.room !== undefined;
  if (a.noise !== undefined && reverb) return 'noise+reverb';
  if (a.noise !== undefined) return 'noise';
  if (reverb) return 'reverb';
  return 'clean';
}

function drawTts(rng: Prng): { speedWpm: number; pitch: number; wordGap: number } {
  return { speedWpm: rng.int(115, 220), pitch: rng.int(15, 85), wordGap: rng.pick([0, 0, 0, 1, 2, 4, 6]) };
}

/**
 * The synthesiser a voice comes from, as figures are reported: espeak-ng's English voices, its
 * other languages, flite, festival.
 */
export type Synth = 'espeak-en' | 'espeak-other' | 'flite' | 'festival';
export const SYNTHS: readonly Synth[] = ['espeak-en', 'espeak-other', 'flite', 'festival'];

export function synthOf(voice: Voice): Synth {
  if (voice.engine !== 'espeak') return voice.engine;
  return voice.accent.startsWith('en') ? 'espeak-en' : 'espeak-other';
}

/** The voices a size uses: all, or a seeded sample of each split from each synthesiser. */
export function chooseVoices(voices: readonly Voice[], plan: SizePlan, seed: number): Voice[] {
  const synths = plan.synths ?? SYNTHS;
  if (plan.voices === 'all') return voices.filter((v) => synths.includes(synthOf(v)));
  const counts = plan.voices;
  const rng = Prng.derive(seed, 'voices');
  const out: Voice[] = [];
  for (const s of ['train', 'val', 'test'] as const) {
    for (const synth of synths) {
      const pool = voices.filter((v) => splitOf(v) === s && synthOf(v) === synth);
      out.push(...rng.shuffle(pool).slice(0, counts[s]));
    }
  }
  return out;
}

export interface PlanInput {
  phrase: string;
  seed: number;
  plan: SizePlan;
  voices: readonly Voice[];
  nearMisses: readonly string[];
  /**
   * The near-misses each voice (espeak-ng `-v` name) may say (near-miss-voice.ts); a voice missing
   * from the map may say them all.
   */
  nearMissesByVoice?: ReadonlyMap<string, readonly string[]>;
  /** Other spellings of the phrase as some accent says it ("eh quark"), for training positives. */
  phraseSpellings?: readonly string[];
}

/**
 * Training voices say one of the phrase's other spellings (near-miss-voice.ts) in their second phrase
 * clip once in this many voices: the h-dropping accent is one of eight, and held out.
 */
export const PHRASE_SPELLING_EVERY = 3;

/**
 * The near-miss a voice says as its `i`th: round-robin over the phrase's list, so every near-miss is
 * heard in many voices, skipping those the voice says like the phrase itself.
 */
export function nearMissFor(
  all: readonly string[],
  allowed: readonly string[] | undefined,
  at: number,
): string | undefined {
  if (allowed === undefined) return all[at % all.length];
  const ok = new Set(allowed);
  for (let k = 0; k < all.length; k++) {
    const text = all[(at + k) % all.length];
    if (text !== undefined && ok.has(text)) return text;
  }
  return undefined;
}

export function planClips(input: PlanInput): ClipSpec[] {
  const { seed, plan } = input;
  const phrase = normalisePhrase(input.phrase);
  const avoid = phrase.split(' ').filter((w) => w.length > 3);
  const clips: ClipSpec[] = [];
  const voices = chooseVoices(input.voices, plan, seed);
  voices.forEach((voice, v) => {
    const split = splitOf(voice);
    const slug = voiceSlug(voice);
    const synth = synthOf(voice);
    const common = { split, voice: speakerOf(voice), variant: voice.variant, synth };
    const say = (id: string, rng: Prng, text: string, question?: string): SpeechSpec => ({
      voice,
      ...drawTts(rng),
      text,
      ...(question === undefined
        ? {}
        : { then: { text: question, gapSeconds: round(rng.uniform(0.1, 0.6), 2) } }),
      augment: drawAugment(Prng.derive(seed, `${id}:augment`)),
    });
    const add = (
      kind: ClipKind,
      n: number,
      make: (id: string, rng: Prng, i: number) => Omit<ClipSpec, 'id'>,
    ): void => {
      for (let i = 0; i < n; i++) {
        const id = `${kind}:${slug}:${i}`;
        clips.push({ id, ...make(id, Prng.derive(seed, id), i) });
      }
    };
    const spellings = input.phraseSpellings ?? [];
    add('phrase', plan.phraseClips, (id, rng, i) => {
      const respell = split === 'train' && i === 1 && spellings.length > 0 && v % PHRASE_SPELLING_EVERY === 0;
      const text = respell
        ? (spellings[Math.floor(v / PHRASE_SPELLING_EVERY) % spellings.length] ?? phrase)
        : phrase;
      return { ...common, label: 'pos', kind: 'phrase', weight: 1, speech: say(id, rng, text) };
    });
    add('phrase+question', plan.questionClips, (id, rng) => ({
      ...common,
      label: 'pos',
      kind: 'phrase+question',
      weight: 1,
      speech: say(id, rng, phrase, rng.pick(QUESTIONS)),
    }));
    const allowed = input.nearMissesByVoice?.get(judgeVoice(voice));
    const sayable = allowed === undefined ? input.nearMisses.length : allowed.length;
    add('near-miss', sayable === 0 ? 0 : plan.nearMissClips, (id, rng, i) => {
      const text = nearMissFor(input.nearMisses, allowed, v * plan.nearMissClips + i) ?? '';
      return {
        ...common,
        label: 'neg',
        kind: 'near-miss',
        weight: NEAR_MISS_WEIGHT,
        speech: say(id, rng, text, rng.chance(0.3) ? rng.pick(QUESTIONS) : undefined),
      };
    });
    const speechClips = synth === 'espeak-en' ? plan.speechClips : plan.otherSpeechClips;
    add('speech', split === 'train' ? speechClips.train : speechClips.heldOut, (id, rng) => {
      const [lo, hi] =
        split === 'train'
          ? plan.sentences.train
          : synth === 'espeak-en'
            ? plan.sentences.heldOut
            : plan.sentences.other;
      // A fifth are the questions alone: heard after the phrase in positives, never a wake phrase.
      const text = rng.chance(0.2)
        ? rng.pick(QUESTIONS)
        : Array.from({ length: rng.int(lo, hi) }, () => sentence(rng, avoid)).join('. ');
      return { ...common, label: 'neg', kind: 'speech', weight: 1, speech: say(id, rng, text) };
    });
  });
  const sounds: [ClipKind, number, (rng: Prng) => { sound: SoundSpec; variant: string }][] = [
    ['noise', plan.noiseClips, drawNoise],
    ['silence', plan.silenceClips, drawSilence],
    ['tone', plan.toneClips, drawTone],
    ['music', plan.musicClips, drawMusic],
  ];
  for (const [kind, n, draw] of sounds) {
    for (let i = 0; i < n; i++) {
      const id = `${kind}:${i}`;
      const rng = Prng.derive(seed, id);
      const split = drawSplit(rng);
      clips.push({ id, label: 'neg', kind, split, weight: 1, voice: 'none', ...draw(rng) });
    }
  }
  return clips;
}

function drawNoise(rng: Prng): { sound: SoundSpec; variant: string } {
  const noise = rng.pick(NOISE_KINDS);
  const seconds = rng.int(5, 10);
  return {
    sound: {
      kind: 'noise',
      noise,
      levelDbfs: round(rng.uniform(-55, -20), 1),
      at: round(rng.next(), 4),
      seconds,
    },
    variant: `${noise}noise`,
  };
}

function drawSilence(rng: Prng): { sound: SoundSpec; variant: string } {
  const digital = rng.chance(0.5);
  return {
    sound: {
      kind: 'silence',
      levelDbfs: digital ? null : round(rng.uniform(-80, -60), 1),
      at: round(rng.next(), 4),
      seconds: rng.int(4, 8),
    },
    variant: digital ? 'digital' : 'room',
  };
}

function drawTone(rng: Prng): { sound: SoundSpec; variant: string } {
  const f = rng.int(200, 3000);
  const shape = rng.pick(['sine', 'square', 'triangle', 'sawtooth']);
  const levelDbfs = round(rng.uniform(-30, -10), 1);
  const style = rng.pick(['steady', 'beeps', 'sweep'] as const);
  const effects =
    style === 'steady'
      ? ['synth', String(rng.int(2, 5)), shape, String(f)]
      : style === 'beeps'
        ? ['synth', round(rng.uniform(0.08, 0.4), 2).toString(), shape, String(f), 'pad', '0', String(round(rng.uniform(0.1, 0.6), 2)), 'repeat', String(rng.int(3, 8))]
        : ['synth', String(rng.int(2, 4)), shape, `${f}-${rng.int(200, 4000)}`]; // prettier-ignore
  return { sound: { kind: 'synth', channels: 1, effects, levelDbfs }, variant: `${style}-${shape}` };
}

/** Triads in a key: sox synth takes `%n` as n semitones from A440. */
const MAJOR = [0, 4, 7];
const MINOR = [0, 3, 7];
const PROGRESSION_DEGREES = [0, 5, 7, 9, 2, 4];

function drawMusic(rng: Prng): { sound: SoundSpec; variant: string } {
  const instrument = rng.pick(['pluck', 'sine', 'triangle', 'square']);
  const root = rng.int(-21, 3);
  const chordSeconds = round(rng.uniform(0.3, 0.9), 2);
  const chords = rng.int(5, 10);
  const effects: string[] = [];
  for (let c = 0; c < chords; c++) {
    const degree = rng.pick(PROGRESSION_DEGREES);
    const shape = degree === 9 || degree === 2 || degree === 4 ? MINOR : MAJOR;
    if (c > 0) effects.push(':');
    effects.push('synth', String(chordSeconds));
    for (const n of shape) effects.push(instrument, `%${root + degree + n}`);
    // Soft edges: a chord that starts and stops at full level clicks.
    effects.push('fade', 'q', '0.01', String(chordSeconds), '0.05');
  }
  return {
    sound: { kind: 'synth', channels: 3, effects, levelDbfs: round(rng.uniform(-32, -12), 1) },
    variant: `chords-${instrument}`,
  };
}

/** Where a clip's file goes: `<split>/<label>/<kind>/[<condition>/]<name>-<hash>.wav`. */
export function fileOf(spec: ClipSpec, version: number): string {
  const hash = hashString(`${version}:${JSON.stringify(spec)}`)
    .toString(16)
    .padStart(8, '0');
  const name = spec.id
    .split(':')
    .slice(1)
    .join('_')
    .replace(/[^A-Za-z0-9+_-]/g, '_');
  const condition = spec.speech === undefined ? [] : [conditionOf(spec.speech.augment)];
  return [spec.split, spec.label, spec.kind, ...condition, `${name}-${hash}.wav`].join('/');
}
