/**
 * The command recogniser on the Debian pocketsphinx (0.8+5prealpha, `pocketsphinx_continuous`) with
 * its US English model, constrained to the command grammar of intents.ts, and rejecting speech
 * outside it.
 *
 * A grammar decode alone never says "none of these": it forces any speech onto the closest
 * command ("what is the capital of France" comes out as "what is this"). So each utterance is
 * decoded three times, side by side, on the same audio:
 *   1. with the command grammar: the best command, and the acoustic score of its path;
 *   2. with a free loop over the model's phones: the best acoustic score any sound sequence reaches;
 *   3. with a free loop over the grammar's own words, in any order and number.
 * Each loop's score minus the command path's, per frame, is a log-likelihood ratio: near 0 when
 * the command explains the audio about as well as the loop does, far below 0 when other speech was
 * forced into a command. The phone loop catches sounds the command's words do not fit; the word
 * loop catches the grammar's words said in another order or with others, and, since it shares the
 * command's word models, it is less thrown by a voice or accent the model fits badly (with the
 * phone loop alone, unseen espeak-ng voices lost most commands to rejection). Their sum, the score,
 * is compared with `minScorePerFrame`, raised in strong noise. All decodes run with `-compallsen yes`
 * so that each frame's scores are normalised against the same best senone and the totals compare.
 *
 * One process per decode and utterance: with a dictionary cut down to the grammar's words,
 * loading the model takes ~20 ms of the 150-200 ms a decode of a 2 s utterance takes (the full
 * 134k-word cmudict would add ~200 ms), so a persistent process would save little and would
 * have to cut utterances by pocketsphinx's own VAD. The three decodes take ~300 ms on two cores.
 *
 * The audio goes to the decoders as one raw temp file, removed after: `-infile` opens a path, and
 * /dev/stdin cannot be opened when Node's stdin is a socket. That file is the wearer's speech, and a
 * grammar file decides what a command is, so they live in a private folder of this process
 * (util/private-temp.ts), created exclusively, 0600: in a shared folder another user could read the
 * audio, plant a symlink where it is written, or plant a grammar that makes any speech a "yeah". The
 * grammar, loops and dictionary are written fresh, once per process.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GlassesError, messageOf } from '../errors.js';
import type { Log } from '../log.js';
import { describeExit, runChild } from '../util/child.js';
import { writeNewPrivateFile } from '../util/private-file.js';
import { isAlive, makeProcessTempDir, removeProcessTempDir } from '../util/private-temp.js';
import { seededRandom } from '../util/random.js';
import {
  COMMANDS,
  commandGrammar,
  grammarWords,
  normalizeTranscript,
  parseIntent,
  type CommandSpec,
} from './intents.js';
import type { CommandRecognizer, Recognition } from './recognizer.js';

export const DEFAULT_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';
// Tuned on the tuning set of scripts/eval-commands.ts (espeak-ng voices, clean and in white noise).
export const DEFAULT_MIN_SCORE_PER_FRAME = -22;
export const DEFAULT_NOISY_SNR_DB = 7;
export const DEFAULT_NOISE_PENALTY_PER_DB = 6;
export const DEFAULT_SCORE_SCALE = 2;
export const DEFAULT_NOISE_FLOOR_DB = -40;

/** pocketsphinx's frame: 10 ms at 16 kHz (`-frate 100`). */
const FRAME_SAMPLES = 160;
const SAMPLE_RATE_HZ = 16_000;
/** Audio kept around the detected speech: the decoder needs some silence on each side. */
const MARGIN_FRAMES = 25;
/** Speech must rise this far above the quietest frames, or nothing was said. */
const MIN_DYNAMIC_RANGE_DB = 12;
const INSTALL = 'install the Debian packages pocketsphinx and pocketsphinx-en-us';
const DECODER = 'pocketsphinx_continuous';
const TEMP_PREFIX = 'glasses-pocketsphinx';
/**
 * Earlier versions kept everything in this one shared folder, each utterance as
 * `utterance-<pid>-<n>.raw`: a process killed mid-recognition left the wearer's audio there,
 * world-readable.
 */
const LEGACY_DIR = 'glasses-pocketsphinx';
const LEGACY_AUDIO = /^utterance-(\d+)-\d+\.raw$/;

export interface PocketsphinxRecognizerOptions {
  /** Holds `en-us/` (acoustic model) and `cmudict-en-us.dict`; the Debian package's by default. */
  modelDir?: string;
  log: Log;
  /**
   * The rejection threshold on clean audio, for the score: the sum of the two log-likelihood
   * ratios per frame, command path against the phone loop and against the word loop, in
   * pocketsphinx's score units (log base 1.0001, shifted right by 10). Higher rejects more. An
   * utterance exactly at the threshold has confidence 0.5.
   */
  minScorePerFrame?: number;
  /**
   * Below this SNR (dB, estimated from the utterance after pre-emphasis, see findSpeech) the
   * threshold rises by `noisePenaltyPerDb` per dB: in strong noise other speech fits a command
   * more easily, as the noise masks what does not fit. White noise at 15 dB SNR measures ~7 here,
   * pink noise at 10 dB ~9, clean speech over the noise floor 40.
   */
  noisySnrDb?: number;
  noisePenaltyPerDb?: number;
  /** Score units from confidence 0.5 to 0.73 (one logit). */
  scoreScale?: number;
  /**
   * A faint deterministic noise added under the audio, in dB below its speech level. A real
   * microphone always has such a floor; without one (digital silence, synthetic speech) the
   * front end's noise and mean estimates go astray and words are lost.
   */
  noiseFloorDb?: number;
  /** The commands; intents.ts's by default. */
  commands?: readonly CommandSpec[];
  /** The decoder program; a full path when it is not on PATH. */
  decoder?: string;
  /**
   * Where the recogniser makes its private folder for the grammar, dictionary and each utterance's
   * audio; the OS temp dir by default.
   */
  tempRoot?: string;
}

interface Segment {
  word: string;
  startFrame: number;
  endFrame: number;
  acousticScore: number;
}

export interface Decoding {
  hypothesis: string;
  segments: Segment[];
}

interface Files {
  /** This process's private folder, which holds the others. */
  dir: string;
  grammar: string;
  phones: string;
  words: string;
  dict: string;
}

const HYP_LINE = /^INFO: pocketsphinx\.c\(\d+\): (.*) \((-?\d+)\)$/;
const SEGMENT_LINE = /^(\S+)\s+(\d+)\s+(\d+)\s+[-\d.]+\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s*$/;

/**
 * The word segments of `-backtrace yes` in a decoder's log, or undefined when the decoder found
 * no path through the grammar. Should the decoder have cut the audio into several utterances,
 * their segments are joined.
 */
export function parseBacktrace(log: string): Decoding | undefined {
  const lines = log.split('\n');
  const hyps: string[] = [];
  const segments: Segment[] = [];
  let offset = 0;
  for (let i = 0; i < lines.length; i++) {
    const hyp = HYP_LINE.exec(lines[i] ?? '');
    if (hyp === null || !(lines[i + 1] ?? '').startsWith('word ')) continue;
    hyps.push(hyp[1] ?? '');
    let last = offset;
    for (i += 2; i < lines.length; i++) {
      const m = SEGMENT_LINE.exec(lines[i] ?? '');
      if (m === null) break;
      const endFrame = offset + Number(m[3]);
      segments.push({
        word: m[1] ?? '',
        startFrame: offset + Number(m[2]),
        endFrame,
        acousticScore: Number(m[4]),
      });
      last = endFrame + 1;
    }
    offset = last;
  }
  return hyps.length === 0 ? undefined : { hypothesis: hyps.join(' ').trim(), segments };
}

function totalScore(d: Decoding): number {
  return d.segments.reduce((sum, s) => sum + s.acousticScore, 0);
}

/** Energy of each 10 ms frame, in dB below full scale. */
function frameDbs(x: ArrayLike<number>): number[] {
  const frames = Math.floor(x.length / FRAME_SAMPLES);
  return Array.from({ length: frames }, (_, f) => {
    let sum = 0;
    for (let i = f * FRAME_SAMPLES; i < (f + 1) * FRAME_SAMPLES; i++) sum += (x[i] ?? 0) ** 2;
    return 10 * Math.log10(sum / FRAME_SAMPLES / 32768 ** 2 + 1e-10);
  });
}

function meanDb(db: readonly number[], frames: readonly number[]): number {
  return 10 * Math.log10(frames.reduce((sum, f) => sum + 10 ** ((db[f] ?? -100) / 10), 0) / frames.length);
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? -100;
}

/**
 * Where the speech is, from frame energies: frames well above the quietest tenth. Undefined when
 * the audio never rises clearly above its own floor (silence, steady noise). `snrDb` compares the
 * speech frames with the quietest tenth after a first-difference (pre-emphasis) filter: what
 * matters to recognition is the noise among the consonants' high frequencies, so white noise
 * counts for more than pink or rumbling noise of the same power.
 */
export function findSpeech(
  pcm: Int16Array,
): { start: number; end: number; levelDb: number; snrDb: number } | undefined {
  const db = frameDbs(pcm);
  const frames = db.length;
  if (frames === 0) return undefined;
  const floor = quantile(db, 0.1);
  const peak = quantile(db, 1);
  if (peak - floor < MIN_DYNAMIC_RANGE_DB) return undefined;
  const threshold = floor + 0.35 * (peak - floor);
  const loud = db.flatMap((d, f) => (d >= threshold ? [f] : []));
  const first = loud[0] ?? 0;
  const last = loud[loud.length - 1] ?? frames - 1;
  const emphasized = frameDbs(Float64Array.from(pcm, (v, i) => v - 0.97 * (pcm[i - 1] ?? 0)));
  return {
    start: Math.max(0, first - MARGIN_FRAMES) * FRAME_SAMPLES,
    end: Math.min(pcm.length, (last + 1 + MARGIN_FRAMES) * FRAME_SAMPLES),
    levelDb: meanDb(db, loud),
    snrDb: meanDb(emphasized, loud) - quantile(emphasized, 0.1),
  };
}

/**
 * The speech with a margin of silence, over a faint noise floor `floorDb` below its level, and
 * its SNR (at most `-floorDb`). The noise comes from a fixed seed, so the same audio always
 * decodes the same.
 */
export function conditionAudio(
  pcm: Int16Array,
  floorDb: number,
): { pcm: Int16Array; snrDb: number } | undefined {
  const speech = findSpeech(pcm);
  if (speech === undefined) return undefined;
  const out = pcm.slice(speech.start, speech.end);
  // Uniform noise of amplitude a has RMS a / sqrt(3).
  const amplitude = 32768 * 10 ** ((speech.levelDb + floorDb) / 20) * Math.sqrt(3);
  const random = seededRandom(0x9e3779b9);
  for (let i = 0; i < out.length; i++) {
    const u = random();
    out[i] = Math.max(-32768, Math.min(32767, Math.round((out[i] ?? 0) + (2 * u - 1) * amplitude)));
  }
  return { pcm: out, snrDb: Math.min(speech.snrDb, -floorDb) };
}

/** The dictionary word that stands for one phone in the phone loop. */
function phoneWord(phone: string): string {
  return `ph_${phone.toLowerCase()}`;
}

/**
 * The pronunciations of `words` from a cmudict-format dictionary, plus one word per phone of
 * the model (`ph_aa AA`) for the phone loop.
 */
export function buildDictionary(
  cmudict: string,
  words: readonly string[],
): { dict: string; phones: string[] } {
  const wanted = new Set(words);
  const found = new Set<string>();
  const phones = new Set<string>();
  const lines: string[] = [];
  for (const line of cmudict.split('\n')) {
    const parts = line.trim().split(/\s+/);
    const head = parts[0];
    if (head === undefined || head === '' || parts.length < 2) continue;
    for (const p of parts.slice(1)) phones.add(p);
    const base = head.replace(/\(\d+\)$/, '');
    if (wanted.has(base)) {
      found.add(base);
      lines.push(parts.join(' '));
    }
  }
  const missing = words.filter((w) => !found.has(w));
  if (missing.length > 0) {
    throw new GlassesError(
      'E_RECOGNIZER_START',
      `speech: the pocketsphinx dictionary has no pronunciation for: ${missing.join(', ')}`,
      { details: { words: missing } },
    );
  }
  const sorted = [...phones].sort();
  for (const p of sorted) lines.push(`${phoneWord(p)} ${p}`);
  return { dict: `${lines.join('\n')}\n`, phones: sorted };
}

/**
 * Removes the audio dead processes of earlier versions left in LEGACY_DIR. Only from a real folder
 * this user owns (nobody else can then swap what is in it), only their utterance files; the grammar
 * files are no one's secret, and an earlier version still running may be using them.
 */
async function removeLegacyAudio(root: string, log: Log): Promise<void> {
  const dir = join(root, LEGACY_DIR);
  const uid = process.getuid?.();
  const st = await fs.lstat(dir).catch(() => undefined);
  if (uid === undefined || st === undefined || !st.isDirectory() || st.uid !== uid) return;
  for (const name of await fs.readdir(dir).catch(() => [])) {
    const pid = Number(LEGACY_AUDIO.exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    const file = join(dir, name);
    const f = await fs.lstat(file).catch(() => undefined);
    if (f === undefined || !f.isFile() || f.uid !== uid) continue;
    await fs.rm(file, { force: true });
    log.debug({ file }, 'removed an utterance an earlier version left');
  }
}

/** Any sequence of `units`: the free loops the command path is measured against. */
function loopGrammar(name: string, units: readonly string[]): string {
  return `#JSGF V1.0;\n\ngrammar ${name};\n\npublic <${name}> = <unit>+;\n\n<unit> = ${units.join(' | ')};\n`;
}

export class PocketsphinxRecognizer implements CommandRecognizer {
  private readonly modelDir: string;
  private readonly log: Log;
  private readonly minScore: number;
  private readonly noisySnrDb: number;
  private readonly noisePenalty: number;
  private readonly scale: number;
  private readonly noiseFloorDb: number;
  private readonly commands: readonly CommandSpec[];
  private readonly decoder: string;
  private readonly tempRoot: string;
  private files: Promise<Files> | undefined;
  private utterances = 0;

  constructor(options: PocketsphinxRecognizerOptions) {
    this.modelDir = options.modelDir ?? DEFAULT_MODEL_DIR;
    this.log = options.log;
    this.minScore = options.minScorePerFrame ?? DEFAULT_MIN_SCORE_PER_FRAME;
    this.noisySnrDb = options.noisySnrDb ?? DEFAULT_NOISY_SNR_DB;
    this.noisePenalty = options.noisePenaltyPerDb ?? DEFAULT_NOISE_PENALTY_PER_DB;
    this.scale = options.scoreScale ?? DEFAULT_SCORE_SCALE;
    this.noiseFloorDb = options.noiseFloorDb ?? DEFAULT_NOISE_FLOOR_DB;
    this.commands = options.commands ?? COMMANDS;
    this.decoder = options.decoder ?? DECODER;
    this.tempRoot = options.tempRoot ?? tmpdir();
    if (!(this.scale > 0))
      throw new GlassesError('E_CONFIG_INVALID', `speech: scoreScale must be above 0, not ${this.scale}`);
    if (!(this.noiseFloorDb < 0)) {
      throw new GlassesError(
        'E_CONFIG_INVALID',
        `speech: noiseFloorDb must be below 0 dB, not ${this.noiseFloorDb}`,
      );
    }
  }

  async recognize(pcm: Int16Array, signal: AbortSignal): Promise<Recognition> {
    const started = performance.now();
    const elapsed = (): number => performance.now() - started;
    if (signal.aborted) throw this.aborted();
    const files = await this.prepare();
    const audio = conditionAudio(pcm, this.noiseFloorDb);
    if (audio === undefined) {
      this.log.debug({ samples: pcm.length }, 'no speech in the utterance');
      return { transcript: '', intent: undefined, accepted: false, confidence: 0, ms: elapsed() };
    }
    const [grammar, phones, words] = await this.decodeAll(files, audio.pcm, signal);
    const transcript = grammar === undefined ? '' : normalizeTranscript(grammar.hypothesis);
    if (grammar === undefined || phones === undefined || words === undefined || transcript === '') {
      // No path through the grammar reached its end: nothing like a command was said.
      this.log.debug({ ms: elapsed(), transcript }, 'no command path through the audio');
      return { transcript, intent: undefined, accepted: false, confidence: 0, ms: elapsed() };
    }
    const frames = audio.pcm.length / FRAME_SAMPLES;
    const grammarScore = totalScore(grammar);
    const phoneRatio = (grammarScore - totalScore(phones)) / frames;
    const wordRatio = (grammarScore - totalScore(words)) / frames;
    const scorePerFrame = phoneRatio + wordRatio;
    const threshold = this.minScore + this.noisePenalty * Math.max(0, this.noisySnrDb - audio.snrDb);
    const confidence = 1 / (1 + Math.exp(-(scorePerFrame - threshold) / this.scale));
    const intent = parseIntent(transcript);
    const accepted = intent !== undefined && scorePerFrame >= threshold;
    const ms = elapsed();
    this.log.debug(
      {
        ms,
        transcript,
        scorePerFrame,
        threshold,
        phoneRatio,
        wordRatio,
        snrDb: audio.snrDb,
        frames,
        accepted,
        intent: intent?.name,
      },
      'recognised',
    );
    return { transcript, intent, accepted, confidence, ms };
  }

  /** The three decodes side by side; when one fails or `signal` aborts, the others are killed too. */
  private async decodeAll(
    files: Files,
    pcm: Int16Array,
    signal: AbortSignal,
  ): Promise<(Decoding | undefined)[]> {
    const raw = join(files.dir, `utterance-${++this.utterances}.raw`);
    const all = new AbortController();
    const onAbort = (): void => {
      all.abort();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // It may have aborted while the files were being prepared.
    if (signal.aborted) all.abort();
    try {
      await writeNewPrivateFile(raw, new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength));
      return await Promise.all(
        [files.grammar, files.phones, files.words].map((g) => this.decode(g, files.dict, raw, all.signal)),
      );
    } catch (err) {
      all.abort();
      if (signal.aborted) throw this.aborted();
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
      await fs.rm(raw, { force: true });
    }
  }

  private aborted(): GlassesError {
    return new GlassesError('E_ABORTED', `speech recognition (${this.decoder}) stopped`, {
      details: { decoder: this.decoder },
    });
  }

  /** Removes the private folder now rather than at exit; a later recognition makes a new one. */
  async close(): Promise<void> {
    const files = this.files;
    this.files = undefined;
    const dir = await files?.then((f) => f.dir).catch(() => undefined);
    if (dir !== undefined) await removeProcessTempDir(dir);
  }

  /** Makes the private folder and writes the grammar, the two loops and the dictionary in it, once. */
  private prepare(): Promise<Files> {
    this.files ??= this.writeFiles().catch((err: unknown) => {
      // A later call may succeed (e.g. once the package is installed).
      this.files = undefined;
      throw err;
    });
    return this.files;
  }

  private async writeFiles(): Promise<Files> {
    const mdef = join(this.modelDir, 'en-us', 'mdef');
    const cmudictFile = join(this.modelDir, 'cmudict-en-us.dict');
    let cmudict: string;
    try {
      await fs.access(mdef);
      cmudict = await fs.readFile(cmudictFile, 'utf8');
    } catch (err) {
      throw new GlassesError(
        'E_RECOGNIZER_START',
        `speech: the pocketsphinx model is not in ${this.modelDir} (${messageOf(err)}); ${INSTALL}`,
        { cause: err, details: { dir: this.modelDir } },
      );
    }
    const vocabulary = grammarWords(this.commands);
    const { dict, phones } = buildDictionary(cmudict, vocabulary);
    const grammar = commandGrammar(this.commands);
    await removeLegacyAudio(this.tempRoot, this.log);
    const dir = await makeProcessTempDir(this.tempRoot, TEMP_PREFIX, this.log);
    const write = async (name: string, text: string): Promise<string> => {
      const file = join(dir, name);
      await writeNewPrivateFile(file, text);
      return file;
    };
    try {
      return {
        dir,
        grammar: await write('commands.gram', grammar),
        phones: await write('phones.gram', loopGrammar('phones', phones.map(phoneWord))),
        words: await write('words.gram', loopGrammar('words', vocabulary)),
        dict: await write('lexicon.dict', dict),
      };
    } catch (err) {
      await removeProcessTempDir(dir);
      throw err;
    }
  }

  private async decode(
    grammarFile: string,
    dictFile: string,
    rawFile: string,
    signal: AbortSignal,
  ): Promise<Decoding | undefined> {
    const args = [
      '-hmm',
      join(this.modelDir, 'en-us'),
      '-dict',
      dictFile,
      '-jsgf',
      grammarFile,
      // Raw 16-bit samples: only a name ending in .wav makes it look for a header.
      '-infile',
      rawFile,
      '-samprate',
      String(SAMPLE_RATE_HZ),
      // The utterance is already cut; pocketsphinx's own VAD would split it at pauses.
      '-remove_silence',
      'no',
      '-compallsen',
      'yes',
      '-backtrace',
      'yes',
    ];
    const r = await runChild(this.decoder, args, { signal, stdout: false });
    if (r.kind === 'aborted') throw this.aborted();
    if (r.kind === 'failed-to-start') {
      throw new GlassesError(
        'E_RECOGNIZER_START',
        `speech: cannot start ${this.decoder} (${r.error.message}); ${INSTALL}`,
        {
          cause: r.error,
        },
      );
    }
    if (r.code !== 0) {
      const why =
        r.stderr
          .split('\n')
          .filter((l) => /ERROR|FATAL/.test(l))
          .pop() ?? '';
      throw new GlassesError('E_RECOGNIZER_FAILED', `speech: ${this.decoder} ${describeExit(r, why.trim())}`);
    }
    // pocketsphinx writes its backtrace to its log (stderr).
    return parseBacktrace(r.stderr);
  }
}
