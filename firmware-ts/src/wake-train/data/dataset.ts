/**
 * The generated data set's index (`<dir>/index.json`): what each clip is, for the trainer (labels,
 * weights, splits) and for evaluation (where the phrase ends, for latency).
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { messageOf } from '../../errors.js';
import { WakeDataError } from './errors.js';

export const CLIP_KINDS = [
  'phrase',
  'phrase+question',
  'speech',
  'near-miss',
  'noise',
  'silence',
  'tone',
  'music',
] as const;
export type ClipKind = (typeof CLIP_KINDS)[number];
export type ClipLabel = 'pos' | 'neg';
export type DataSize = 'smoke' | 'full';

const clipSchema = z
  .object({
    /** Relative to the data folder: `<split>/<label>/<kind>/[<condition>/]<name>.wav`. */
    file: z.string().min(1),
    label: z.enum(['pos', 'neg']),
    kind: z.enum(CLIP_KINDS),
    /**
     * The speaker: espeak-ng accent (`en-us`), `flite:awb`, `festival:lp_diphone`, or `none` for
     * noise, silence, tones and music.
     */
    voice: z.string(),
    /** Speech: the synthesiser (`espeak-en`, `espeak-other`, `flite`, `festival`). */
    synth: z.enum(['espeak-en', 'espeak-other', 'flite', 'festival']).optional(),
    /** espeak-ng variant (`f3`, `''` for the plain voice), or the kind of sound (`pinknoise`). */
    variant: z.string(),
    split: z.enum(['train', 'val', 'test']),
    seconds: z.number().nonnegative(),
    /** Loss weight: near-misses count more. */
    weight: z.number().positive(),
    /** Positives: where the phrase's speech ends, in seconds from the start of the file. */
    phraseEndSeconds: z.number().nonnegative().optional(),
    /** What was said (speech kinds). */
    text: z.string().optional(),
    /** How the clip was augmented, e.g. `tempo 1.08, reverb large, pink noise 7 dB, band 150-6500 Hz`. */
    augment: z.string(),
  })
  .strict();

const indexSchema = z
  .object({
    /** Bumped whenever the generator's output changes for the same options. */
    version: z.number().int(),
    phrase: z.string(),
    seed: z.number().int(),
    size: z.enum(['smoke', 'full']),
    /** espeak-ng, sox, flite and festival versions the clips were made with. */
    tools: z.string(),
    /** Which voices (espeak-ng `-v` names) each split holds. */
    voices: z.object({ train: z.array(z.string()), val: z.array(z.string()), test: z.array(z.string()) }),
    /** Voices espeak-ng lists that were not used, and why. */
    skippedVoices: z.array(z.string()),
    nearMisses: z.array(z.string()),
    /**
     * The rule that keeps a near-miss out of a voice that says it like the phrase
     * (near-miss-voice.ts), and how many of the chosen voices each near-miss was kept out of.
     */
    nearMissVoiceRule: z.string().optional(),
    nearMissesDroppedInVoices: z.record(z.string(), z.number().int().nonnegative()).optional(),
    /** Other spellings of the phrase that some training positives say ("eh quark"; plan.ts). */
    phraseSpellings: z.array(z.string()).optional(),
    clips: z.array(clipSchema),
  })
  .strict();

export type WakeDataClip = z.infer<typeof clipSchema>;
export type WakeDataIndex = z.infer<typeof indexSchema>;

export const INDEX_FILE = 'index.json';

export function parseWakeDataIndex(text: string, file: string): WakeDataIndex {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new WakeDataError('E_WAKE_DATA', `${file}: not valid JSON (${messageOf(err)})`, {
      details: { file },
    });
  }
  const r = indexSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new WakeDataError(
      'E_WAKE_DATA',
      `${file}: ${issue === undefined ? 'malformed' : `${issue.path.join('.')}: ${issue.message}`}`,
      { details: { file } },
    );
  }
  return r.data;
}

/** The index of a generated folder, or undefined when there is none (yet). */
export async function readWakeDataIndex(dir: string): Promise<WakeDataIndex | undefined> {
  const file = join(dir, INDEX_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new WakeDataError('E_WAKE_DATA', `${file}: cannot read it (${messageOf(err)})`, {
      details: { file },
    });
  }
  return parseWakeDataIndex(text, file);
}

/** The index as written: stable key order and one clip a line, so equal data gives equal bytes. */
export function formatWakeDataIndex(index: WakeDataIndex): string {
  const { clips, ...head } = index;
  const lines = clips.map((c) => `    ${JSON.stringify(c)}`);
  const top = JSON.stringify(head, null, 2).replace(/\n}$/, '');
  return `${top},\n  "clips": [\n${lines.join(',\n')}\n  ]\n}\n`;
}
