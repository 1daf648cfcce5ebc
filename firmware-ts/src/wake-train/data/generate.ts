/**
 * `generateWakeData`: synthesises a wake phrase's training and evaluation audio into a folder.
 *
 *   <dir>/index.json                              what every clip is (dataset.ts), written last
 *   <dir>/<split>/pos/<kind>/<condition>/*.wav    the phrase, alone or followed by a question
 *   <dir>/<split>/neg/<kind>/[<condition>/]*.wav  speech, near-misses, noise, silence, tones, music
 *   <dir>/.work/journal.jsonl                     clips finished so far, for resuming
 *
 * The same options give the same bytes (see plan.ts and tools.ts). A run reuses every clip an earlier
 * run finished: clip file names carry a hash of their recipe, each is renamed into place only when
 * whole, and the journal records what the index needs of it. So an interrupted run resumes, and a
 * finished one returns at once.
 */
import { promises as fs } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { encodeWav } from '../../audio/wav.js';
import { floatToInt16 } from '../../audio/resample.js';
import { messageOf } from '../../errors.js';
import { writeFileAtomic } from '../../util/atomic-file.js';
import {
  formatWakeDataIndex,
  INDEX_FILE,
  readWakeDataIndex,
  type DataSize,
  type WakeDataClip,
  type WakeDataIndex,
} from './dataset.js';
import { WakeDataError } from './errors.js';
import { nearMisses } from './near-miss.js';
import { NEAR_MISS_VOICE_RULE, nearMissesByVoice, type VoiceJudgement } from './near-miss-voice.js';
import {
  chooseVoices,
  describeAugment,
  fileOf,
  planClips,
  SIZE_PLANS,
  type ClipSpec,
  type SizePlan,
} from './plan.js';
import { Prng } from './prng.js';
import { mixBabble, renderClip, synthNoiseBeds, type NoiseBeds } from './render.js';
import { sentence } from './text.js';
import {
  otherVoiceListings,
  phonemize,
  pool,
  SAMPLE_RATE_HZ,
  speak,
  toolVersions,
  voiceListings,
} from './tools.js';
import {
  allVoices,
  judgeVoice,
  otherVoices,
  parseVoiceLists,
  splitOf,
  synthVoice,
  voiceName,
  type Split,
  type Voice,
} from './voices.js';

/** Bump whenever the same options would give other clips or near-misses (it keys every cache). */
export const GENERATOR_VERSION = 6;

export interface WakeDataProgress {
  stage: 'voices' | 'near-misses' | 'noise' | 'clips' | 'index';
  done: number;
  total: number;
}

export interface GenerateWakeDataOptions {
  /** The words, e.g. "hey quark" (an underscore reads as a space: `hey_jarvis`). */
  phrase: string;
  seed: number;
  size: DataSize;
  dir: string;
  onProgress?: (p: WakeDataProgress) => void;
  signal?: AbortSignal;
  /** Overrides parts of the size's plan (tests make tiny sets). */
  plan?: Partial<SizePlan>;
  /** espeak-ng and sox processes at once; default 2. */
  concurrency?: number;
}

const NOISE_BED_SECONDS = 30;
const BABBLE_TALKERS = 4;
const BABBLE_SENTENCES = 3;
const SPLITS: readonly Split[] = ['train', 'val', 'test'];
const JOURNAL = join('.work', 'journal.jsonl');

interface Finished {
  file: string;
  seconds: number;
  phraseEndSeconds?: number;
}

export async function generateWakeData(options: GenerateWakeDataOptions): Promise<WakeDataIndex> {
  const signal = options.signal ?? new AbortController().signal;
  const progress = options.onProgress ?? (() => undefined);
  const { dir, seed, size } = options;
  const plan: SizePlan = { ...SIZE_PLANS[size], ...options.plan };
  const concurrency = options.concurrency ?? 2;

  progress({ stage: 'voices', done: 0, total: 1 });
  const tools = await toolVersions(signal);
  const listings = await voiceListings(signal);
  const voiceList = parseVoiceLists(listings.english, listings.variants, listings.mbrola);
  const english = allVoices(voiceList);
  if (english.length === 0) {
    throw new WakeDataError('E_WAKE_DATA', 'espeak-ng lists no English voices: install espeak-ng-data');
  }
  const voices = [...english, ...otherVoices(await otherVoiceListings(signal), voiceList.variants)];
  progress({ stage: 'voices', done: 1, total: 1 });

  progress({ stage: 'near-misses', done: 0, total: 1 });
  const misses = await cachedNearMisses(dir, options.phrase, tools, signal);

  const chosen = chooseVoices(voices, plan, seed);
  const judged =
    plan.nearMissClips > 0 && misses.length > 0
      ? await cachedNearMissesByVoice(dir, options.phrase, misses, chosen.map(judgeVoice), tools, {
          concurrency,
          signal,
        })
      : { allowed: new Map<string, string[]>(), phraseSpellings: [] };
  const byVoice = judged.allowed;
  progress({ stage: 'near-misses', done: 1, total: 1 });

  const specs = planClips({
    phrase: options.phrase,
    seed,
    plan,
    voices,
    nearMisses: misses,
    nearMissesByVoice: byVoice,
    phraseSpellings: judged.phraseSpellings,
  });
  const files = specs.map((s) => fileOf(s, GENERATOR_VERSION));
  const head = {
    version: GENERATOR_VERSION,
    phrase: options.phrase,
    seed,
    size,
    tools,
    voices: voicesBySplit(chosen),
    skippedVoices: voiceList.skipped,
    nearMisses: misses,
    nearMissVoiceRule: NEAR_MISS_VOICE_RULE,
    nearMissesDroppedInVoices: droppedCounts(misses, byVoice),
    phraseSpellings: judged.phraseSpellings,
  };

  const existing = await readWakeDataIndex(dir).catch(() => undefined);
  if (existing !== undefined && sameRun(existing, head, files) && (await allExist(dir, files))) {
    return existing;
  }

  await fs.mkdir(join(dir, '.work'), { recursive: true });
  const finished = await readJournal(dir);
  const todo: number[] = [];
  for (let i = 0; i < specs.length; i++) {
    const file = files[i] ?? '';
    if (!(finished.has(file) && (await exists(join(dir, file))))) todo.push(i);
  }

  if (todo.length > 0) {
    progress({ stage: 'noise', done: 0, total: 1 });
    const beds = await makeBeds(voices, seed, signal);
    progress({ stage: 'noise', done: 1, total: 1 });
    const journal = await fs.open(join(dir, JOURNAL), 'a');
    try {
      let done = specs.length - todo.length;
      progress({ stage: 'clips', done, total: specs.length });
      await pool(todo, concurrency, async (i) => {
        const spec = specs[i] as ClipSpec;
        const file = files[i] ?? '';
        const clip = await renderClip(spec, beds, signal);
        await writeClip(join(dir, file), clip.samples);
        const entry: Finished = {
          file,
          seconds: clip.samples.length / SAMPLE_RATE_HZ,
          ...(clip.phraseEndSeconds === undefined ? {} : { phraseEndSeconds: clip.phraseEndSeconds }),
        };
        finished.set(file, entry);
        await journal.appendFile(`${JSON.stringify(entry)}\n`);
        progress({ stage: 'clips', done: ++done, total: specs.length });
      });
    } finally {
      await journal.close();
    }
  }

  progress({ stage: 'index', done: 0, total: 1 });
  const clips = specs.map((spec, i) => indexEntry(spec, finished.get(files[i] ?? '')));
  const index: WakeDataIndex = { ...head, clips };
  await writeFileAtomic(join(dir, INDEX_FILE), formatWakeDataIndex(index));
  await prune(dir, new Set(files));
  await writeFileAtomic(
    join(dir, JOURNAL),
    files.map((f) => `${JSON.stringify(finished.get(f))}\n`).join(''),
  );
  progress({ stage: 'index', done: 1, total: 1 });
  return index;
}

/** Near-misses worked out in this process, by phrase and tools (tests generate several folders). */
const nearMissMemo = new Map<string, string[]>();

/** The phrase's near-misses, kept in .work: working them out takes espeak-ng a few seconds. */
async function cachedNearMisses(
  dir: string,
  phrase: string,
  tools: string,
  signal: AbortSignal,
): Promise<string[]> {
  const file = join(dir, '.work', 'near-misses.json');
  const key = JSON.stringify({ version: GENERATOR_VERSION, phrase, tools });
  const memo = nearMissMemo.get(key);
  if (memo !== undefined) return memo;
  const texts = await cachedJson(file, key, isStrings, async () =>
    (await nearMisses(phrase, (t, accent) => phonemize(t, accent, signal))).map((m) => m.text),
  );
  nearMissMemo.set(key, texts);
  return texts;
}

/**
 * Which near-misses each voice may say (near-miss-voice.ts), kept in .work: espeak-ng runs once per
 * voice, a few seconds for all of them.
 */
async function cachedNearMissesByVoice(
  dir: string,
  phrase: string,
  misses: readonly string[],
  voices: readonly string[],
  tools: string,
  options: { concurrency: number; signal: AbortSignal },
): Promise<VoiceJudgement> {
  const file = join(dir, '.work', 'near-misses-by-voice.json');
  const key = JSON.stringify({
    version: GENERATOR_VERSION,
    rule: NEAR_MISS_VOICE_RULE,
    phrase,
    misses,
    voices,
    tools,
  });
  const stored = await cachedJson(file, key, isStoredJudgement, async () => {
    const judged = await nearMissesByVoice(
      phrase,
      misses,
      voices,
      (t, voice) => phonemize(t, voice, options.signal),
      (vs, fn) => pool(vs, options.concurrency, fn),
    );
    return { byVoice: [...judged.allowed.entries()], phraseSpellings: judged.phraseSpellings };
  });
  return { allowed: new Map(stored.byVoice), phraseSpellings: stored.phraseSpellings };
}

interface StoredJudgement {
  byVoice: [string, string[]][];
  phraseSpellings: string[];
}

function isStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((t) => typeof t === 'string');
}

function isStoredJudgement(v: unknown): v is StoredJudgement {
  const s = v as Partial<Record<keyof StoredJudgement, unknown>> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    isStrings(s.phraseSpellings) &&
    Array.isArray(s.byVoice) &&
    s.byVoice.every((e) => Array.isArray(e) && typeof e[0] === 'string' && isStrings(e[1]))
  );
}

/**
 * Work kept in a JSON file under a key: read back when the key matches and the value is well formed,
 * else worked out again and written (atomically).
 */
async function cachedJson<T>(
  file: string,
  key: string,
  valid: (value: unknown) => value is T,
  compute: () => Promise<T>,
): Promise<T> {
  try {
    const cached = JSON.parse(await fs.readFile(file, 'utf8')) as { key?: unknown; value?: unknown };
    if (cached.key === key && valid(cached.value)) return cached.value;
  } catch {
    // No cache yet, or a broken one: work it out again.
  }
  const value = await compute();
  await fs.mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify({ key, value }));
  return value;
}

/** For the index: in how many voices each near-miss was kept out (only those kept out of any). */
function droppedCounts(
  misses: readonly string[],
  byVoice: ReadonlyMap<string, readonly string[]>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const allowed of byVoice.values()) {
    const ok = new Set(allowed);
    for (const m of misses) if (!ok.has(m)) out[m] = (out[m] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function voicesBySplit(voices: readonly Voice[]): Record<Split, string[]> {
  const out: Record<Split, string[]> = { train: [], val: [], test: [] };
  for (const v of voices) out[splitOf(v)].push(voiceName(v));
  return out;
}

function sameRun(
  index: WakeDataIndex,
  head: Omit<WakeDataIndex, 'clips'>,
  files: readonly string[],
): boolean {
  const { clips, ...rest } = index;
  return (
    JSON.stringify(rest) === JSON.stringify(head) &&
    clips.length === files.length &&
    clips.every((c, i) => c.file === files[i])
  );
}

function indexEntry(spec: ClipSpec, done: Finished | undefined): WakeDataClip {
  if (done === undefined) throw new Error(`clip ${spec.id} was not generated`);
  const text =
    spec.speech === undefined
      ? undefined
      : [spec.speech.text, spec.speech.then?.text].filter(Boolean).join(', ');
  return {
    file: done.file,
    label: spec.label,
    kind: spec.kind,
    voice: spec.voice,
    variant: spec.variant,
    ...(spec.synth === undefined ? {} : { synth: spec.synth }),
    split: spec.split,
    seconds: Number(done.seconds.toFixed(4)),
    weight: spec.weight,
    ...(spec.label === 'pos' && done.phraseEndSeconds !== undefined
      ? { phraseEndSeconds: done.phraseEndSeconds }
      : {}),
    ...(text === undefined ? {} : { text }),
    augment: spec.speech === undefined ? 'none' : describeAugment(spec.speech.augment),
  };
}

/** White, pink and brown noise, and babble from each split's voices. */
async function makeBeds(voices: readonly Voice[], seed: number, signal: AbortSignal): Promise<NoiseBeds> {
  const noise = await synthNoiseBeds(NOISE_BED_SECONDS, signal);
  const babble = {} as Record<Split, Float32Array>;
  for (const split of SPLITS) {
    const rng = Prng.derive(seed, `babble:${split}`);
    const talkers = rng.shuffle(voices.filter((v) => splitOf(v) === split)).slice(0, BABBLE_TALKERS);
    const speech = [];
    for (const v of talkers) {
      const text = Array.from({ length: BABBLE_SENTENCES }, () => sentence(rng)).join('. ');
      speech.push(
        await speak(
          {
            engine: v.engine,
            voice: synthVoice(v),
            speedWpm: rng.int(140, 190),
            pitch: rng.int(20, 80),
            wordGap: 0,
            text,
          },
          signal,
        ),
      );
    }
    babble[split] = mixBabble(speech, NOISE_BED_SECONDS);
  }
  return { ...noise, babble };
}

/**
 * Written to a temporary name and renamed, so a file under its real name is always whole. Not
 * fsync'd: these are a cache, and thousands of syncs would cost more than regenerating after a crash.
 */
async function writeClip(file: string, samples: Float32Array): Promise<void> {
  await fs.mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, encodeWav(floatToInt16(samples), SAMPLE_RATE_HZ, 1));
  await fs.rename(tmp, file);
}

async function readJournal(dir: string): Promise<Map<string, Finished>> {
  const out = new Map<string, Finished>();
  let text = '';
  try {
    text = await fs.readFile(join(dir, JOURNAL), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new WakeDataError('E_WAKE_DATA', `${join(dir, JOURNAL)}: cannot read it (${messageOf(err)})`);
    }
  }
  for (const line of text.split('\n')) {
    // A run killed mid-write leaves a partial last line: that clip is simply made again.
    try {
      const e = JSON.parse(line) as Finished;
      if (typeof e.file === 'string' && typeof e.seconds === 'number') out.set(e.file, e);
    } catch {
      continue;
    }
  }
  return out;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

async function allExist(dir: string, files: readonly string[]): Promise<boolean> {
  for (const f of files) if (!(await exists(join(dir, f)))) return false;
  return true;
}

/** Removes clips (and leftovers of killed runs) that the current plan does not have. */
async function prune(dir: string, keep: ReadonlySet<string>): Promise<void> {
  for (const split of SPLITS) {
    const root = join(dir, split);
    let entries: string[];
    try {
      entries = await fs.readdir(root, { recursive: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const rel = relative(dir, join(root, e)).split(sep).join('/');
      if ((rel.endsWith('.wav') || rel.endsWith('.tmp')) && !keep.has(rel))
        await fs.rm(join(dir, rel), { force: true });
    }
  }
}
