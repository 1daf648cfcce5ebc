/**
 * Measures the command recogniser on synthetic speech: commands must be accepted with the right
 * intent and slots, open questions and other speech must be rejected.
 *
 *   npx tsx scripts/eval-commands.ts            tables
 *   npx tsx scripts/eval-commands.ts --json     one JSON object, with every utterance
 *   options: --set tuning|held-out  --min-score N  --noisy-snr DB  --noise-penalty N  (override the recogniser's defaults)
 *
 * Utterances are spoken by espeak-ng (US, British RP, Caribbean; male and female variants; 140-190
 * words per minute), padded as the endpointer would cut them (0.3 s before, 0.6 s after), and
 * each is heard twice: clean, and with white noise made by sox at 10, 15 or 20 dB SNR. The
 * tuning set, on which the rejection threshold was chosen, and the held-out set share no voice
 * and speed pair, and no command or open-question sentence. Everything is deterministic
 * (espeak-ng, `sox -R`, the recogniser's own seeded noise floor) but the times.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MODEL_SAMPLE_RATE_HZ } from '../firmware-ts/src/audio/chunk.js';
import { downmix, floatToInt16, resample } from '../firmware-ts/src/audio/resample.js';
import { decodeWav } from '../firmware-ts/src/audio/wav.js';
import { silentLogger } from '../firmware-ts/src/log.js';
import { parseIntent, sameIntent, type Intent } from '../firmware-ts/src/speech/intents.js';
import {
  DEFAULT_MIN_SCORE_PER_FRAME,
  DEFAULT_NOISE_PENALTY_PER_DB,
  DEFAULT_NOISY_SNR_DB,
  DEFAULT_SCORE_SCALE,
  PocketsphinxRecognizer,
} from '../firmware-ts/src/speech/pocketsphinx.js';
import type { Recognition } from '../firmware-ts/src/speech/recognizer.js';

const run = promisify(execFile);

type SetName = 'tuning' | 'held-out';

interface Speaker {
  voice: string;
  wordsPerMinute: number;
}

const SPEAKERS: Record<SetName, Speaker[]> = {
  tuning: [
    { voice: 'en-us', wordsPerMinute: 150 },
    { voice: 'en-gb-x-rp', wordsPerMinute: 175 },
    { voice: 'en-us+f3', wordsPerMinute: 160 },
  ],
  'held-out': [
    { voice: 'en+m3', wordsPerMinute: 140 },
    { voice: 'en-029+f2', wordsPerMinute: 165 },
    { voice: 'en-us', wordsPerMinute: 190 },
    { voice: 'en-gb-x-rp', wordsPerMinute: 145 },
  ],
};

const COMMAND_SENTENCES: Record<SetName, string[]> = {
  tuning: [
    'what is this',
    'what am i looking at',
    'read this',
    'how much is this',
    'buy this',
    'buy two of these',
    'buy five of these',
    'buy nine',
    'order a coffee',
    'order a taxi',
    'order me a pizza',
    'get me a tea',
    'call a cab',
    'where is my order',
    'yes',
    'yes please',
    'no',
    'cancel',
    'never mind',
    'stop',
    'repeat that',
    'louder',
    'quieter',
    'volume up',
    'what time is it',
    'battery',
    'what can you do',
    'help',
  ],
  'held-out': [
    'what is that',
    "what's this",
    'read that',
    'how much does this cost',
    'buy that',
    'buy three of these',
    'buy seven of these',
    'buy ten of those',
    'buy one',
    'order a sandwich',
    'order a water',
    'get me a coffee',
    'call me a taxi',
    "where's my order",
    'track my order',
    'yeah',
    'okay',
    'no thanks',
    'cancel that',
    'stop talking',
    'say that again',
    'speak up',
    'turn it down',
    'softer',
    "what's the time",
    'battery level',
    'what can i say',
  ],
};

/** Open questions and other speech, some close to a command ("buy me a house in paris"). */
const OPEN_SENTENCES: Record<SetName, string[]> = {
  tuning: [
    'what is the capital of france',
    'tell me a joke',
    'how tall is mount everest',
    'who wrote hamlet',
    "what's the weather tomorrow",
    'this is a nice place',
    'buy me a house in paris',
    'read me the news',
    'how much does a car cost',
    'what is love',
    'call my mother',
    'play some music',
    'turn on the lights',
    'set an alarm for seven',
    'where is the nearest station',
    'what should i cook tonight',
    'translate this into spanish',
    'how far is the moon',
    'is it going to rain',
    'remind me to call john',
    'who is the president',
    'what does this word mean',
    'send a message to anna',
    'how do i get home',
  ],
  'held-out': [
    'what is the population of china',
    'tell me a story',
    'how old is the universe',
    'who painted the mona lisa',
    'will it snow this weekend',
    'that looks delicious',
    'buy a ticket to london',
    'read my emails',
    'how much is a flight to rome',
    'what time does the shop close',
    'what is the meaning of life',
    'call the restaurant',
    'open the door',
    'where can i park',
    'order a new phone online',
    'what are you doing',
    'is this vegan',
    'show me the way to the station',
    'how many calories are in this',
    'book a table for two',
    'what day is it today',
    'take a picture',
    'where am i',
    'what is your name',
  ],
};

const NOISE_SNRS_DB = [10, 15, 20] as const;
const PAD_BEFORE_MS = 300;
const PAD_AFTER_MS = 600;
const NOISE_SECONDS = 30;

interface Utterance {
  set: SetName;
  kind: 'command' | 'open';
  text: string;
  expected: Intent | undefined;
  voice: string;
  wordsPerMinute: number;
  /** undefined: clean. */
  snrDb: number | undefined;
  pcm: Int16Array;
}

interface Result extends Omit<Utterance, 'pcm'>, Recognition {
  /** Accepted, with the expected intent and slots. */
  correct: boolean;
}

function usage(message: string): never {
  process.stderr.write(`eval-commands: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): {
  json: boolean;
  sets: SetName[];
  minScore: number;
  noisePenalty: number;
  noisySnr: number;
} {
  const out = {
    json: false,
    sets: ['tuning', 'held-out'] as SetName[],
    minScore: DEFAULT_MIN_SCORE_PER_FRAME,
    noisePenalty: DEFAULT_NOISE_PENALTY_PER_DB,
    noisySnr: DEFAULT_NOISY_SNR_DB,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => argv[++i] ?? usage(`${arg ?? ''} needs a value`);
    const number = (): number => {
      const v = Number(value());
      return Number.isFinite(v) ? v : usage(`${arg ?? ''} takes a number`);
    };
    if (arg === '--json') out.json = true;
    else if (arg === '--set') {
      const v = value();
      if (v !== 'tuning' && v !== 'held-out') usage(`--set takes tuning or held-out, not ${v}`);
      out.sets = [v];
    } else if (arg === '--min-score') out.minScore = number();
    else if (arg === '--noise-penalty') out.noisePenalty = number();
    else if (arg === '--noisy-snr') out.noisySnr = number();
    else usage(`unknown argument ${arg ?? ''}`);
  }
  return out;
}

async function speak(text: string, speaker: Speaker): Promise<Int16Array> {
  const { stdout } = await run(
    'espeak-ng',
    ['--stdout', '-v', speaker.voice, '-s', String(speaker.wordsPerMinute), text],
    { encoding: 'buffer', maxBuffer: 64 << 20 },
  );
  const wav = decodeWav(stdout, `espeak-ng -v ${speaker.voice}`);
  const speech = floatToInt16(
    resample(downmix(wav.samples, wav.channels), wav.sampleRateHz, MODEL_SAMPLE_RATE_HZ),
  );
  const before = (PAD_BEFORE_MS * MODEL_SAMPLE_RATE_HZ) / 1000;
  const after = (PAD_AFTER_MS * MODEL_SAMPLE_RATE_HZ) / 1000;
  const out = new Int16Array(before + speech.length + after);
  out.set(speech, before);
  return out;
}

/** White noise from sox, repeatable (`-R` seeds its generator). */
async function soxNoise(): Promise<Int16Array> {
  const { stdout } = await run(
    'sox',
    [
      '-R',
      '-n',
      '-r',
      String(MODEL_SAMPLE_RATE_HZ),
      '-c',
      '1',
      '-b',
      '16',
      '-e',
      'signed',
      '-t',
      'raw',
      '-',
    ].concat(['synth', String(NOISE_SECONDS), 'whitenoise']),
    { encoding: 'buffer', maxBuffer: 64 << 20 },
  );
  return new Int16Array(stdout.buffer, stdout.byteOffset, Math.floor(stdout.byteLength / 2));
}

function rms(x: ArrayLike<number>, from = 0, to = x.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += (x[i] ?? 0) ** 2;
  return Math.sqrt(sum / Math.max(1, to - from));
}

/** Speech level: RMS over the 20 ms frames within 20 dB of the loudest, as a speech meter would. */
function speechRms(pcm: Int16Array): number {
  const frame = 320;
  const levels: number[] = [];
  for (let s = 0; s + frame <= pcm.length; s += frame) levels.push(rms(pcm, s, s + frame));
  const loudest = Math.max(...levels);
  const active = levels.filter((l) => l > loudest / 10);
  return Math.sqrt(active.reduce((sum, l) => sum + l * l, 0) / active.length);
}

function addNoise(pcm: Int16Array, noise: Int16Array, snrDb: number, offset: number): Int16Array {
  const gain = speechRms(pcm) / 10 ** (snrDb / 20) / rms(noise);
  return pcm.map((s, i) => {
    const n = noise[(offset + i) % noise.length] ?? 0;
    return Math.max(-32768, Math.min(32767, Math.round(s + gain * n)));
  });
}

async function buildSet(set: SetName, noise: Int16Array): Promise<Utterance[]> {
  const out: Utterance[] = [];
  const sentences = [
    ...COMMAND_SENTENCES[set].map((text) => ({ kind: 'command' as const, text })),
    ...OPEN_SENTENCES[set].map((text) => ({ kind: 'open' as const, text })),
  ];
  for (const { kind, text } of sentences) {
    const expected = parseIntent(text);
    if ((kind === 'command') !== (expected !== undefined)) {
      throw new Error(
        `eval sentence "${text}" is listed as ${kind} but parses as ${expected?.name ?? 'nothing'}`,
      );
    }
    for (const speaker of SPEAKERS[set]) {
      const pcm = await speak(text, speaker);
      const base = { set, kind, text, expected, ...speaker };
      out.push({ ...base, snrDb: undefined, pcm });
      const n = out.length;
      const snrDb = NOISE_SNRS_DB[n % NOISE_SNRS_DB.length] ?? 20;
      out.push({ ...base, snrDb, pcm: addNoise(pcm, noise, snrDb, (n * 7919) % noise.length) });
    }
  }
  return out;
}

interface Rates {
  commands: number;
  accuracy: number;
  falseRejects: number;
  wrongAccepts: number;
  open: number;
  falseAccepts: number;
  msMean: number;
  msP95: number;
}

function rates(results: Result[]): Rates {
  const commands = results.filter((r) => r.kind === 'command');
  const open = results.filter((r) => r.kind === 'open');
  const share = (n: number, of: number): number => (of === 0 ? 0 : n / of);
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  return {
    commands: commands.length,
    accuracy: share(commands.filter((r) => r.correct).length, commands.length),
    falseRejects: share(commands.filter((r) => !r.accepted).length, commands.length),
    wrongAccepts: share(commands.filter((r) => r.accepted && !r.correct).length, commands.length),
    open: open.length,
    falseAccepts: share(open.filter((r) => r.accepted).length, open.length),
    msMean: ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length),
    msP95: ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.95))] ?? 0,
  };
}

function conditionOf(r: Result): string {
  return r.snrDb === undefined ? 'clean' : `${r.snrDb} dB`;
}

function breakdown(results: Result[], sets: SetName[]): { set: string; condition: string; rates: Rates }[] {
  const rows: { set: string; condition: string; rates: Rates }[] = [];
  const conditions = ['clean', ...NOISE_SNRS_DB.map((s) => `${s} dB`)];
  for (const set of sets) {
    const mine = results.filter((r) => r.set === set);
    for (const c of conditions)
      rows.push({ set, condition: c, rates: rates(mine.filter((r) => conditionOf(r) === c)) });
    rows.push({ set, condition: 'all', rates: rates(mine) });
  }
  return rows;
}

/**
 * The tuning set's operating curve: what moving the threshold by `shift` score units would do,
 * read off the confidences (a shift is a change of logit(confidence) times the score scale).
 */
function operatingCurve(results: Result[]): { shift: number; accuracy: number; falseAccepts: number }[] {
  // Infinite at confidence 0 and 1, which is what the comparison needs.
  const logit = (p: number): number => Math.log(p / (1 - p));
  const points: { shift: number; accuracy: number; falseAccepts: number }[] = [];
  const commands = results.filter((r) => r.kind === 'command');
  const open = results.filter((r) => r.kind === 'open');
  for (let shift = -8; shift <= 8; shift += 2) {
    const passes = (r: Result): boolean =>
      r.intent !== undefined && logit(r.confidence) * DEFAULT_SCORE_SCALE >= shift;
    const correct = commands.filter(
      (r) =>
        passes(r) && r.expected !== undefined && r.intent !== undefined && sameIntent(r.intent, r.expected),
    );
    points.push({
      shift,
      accuracy: correct.length / Math.max(1, commands.length),
      falseAccepts: open.filter(passes).length / Math.max(1, open.length),
    });
  }
  return points;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`.padStart(7);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const recognizer = new PocketsphinxRecognizer({
    log: silentLogger(),
    minScorePerFrame: args.minScore,
    noisePenaltyPerDb: args.noisePenalty,
    noisySnrDb: args.noisySnr,
  });
  const noise = await soxNoise();
  const utterances: Utterance[] = [];
  for (const set of args.sets) utterances.push(...(await buildSet(set, noise)));
  const results: Result[] = [];
  const signal = new AbortController().signal;
  for (const [i, u] of utterances.entries()) {
    const r = await recognizer.recognize(u.pcm, signal);
    const { pcm: _pcm, ...rest } = u;
    const correct =
      r.accepted && u.expected !== undefined && r.intent !== undefined && sameIntent(r.intent, u.expected);
    results.push({ ...rest, ...r, correct });
    if (!args.json && process.stderr.isTTY) process.stderr.write(`\r${i + 1}/${utterances.length}`);
  }
  if (!args.json && process.stderr.isTTY) process.stderr.write('\n');
  const rows = breakdown(results, args.sets);
  const curve = args.sets.includes('tuning') ? operatingCurve(results.filter((r) => r.set === 'tuning')) : [];
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ minScorePerFrame: args.minScore, noisySnrDb: args.noisySnr, noisePenaltyPerDb: args.noisePenalty, rows, curve, utterances: results })}\n`,
    );
    return;
  }
  const out: string[] = [
    `pocketsphinx command recognition: minScorePerFrame ${args.minScore}, noisySnrDb ${args.noisySnr}, noisePenaltyPerDb ${args.noisePenalty}`,
    '',
    'set       condition  commands  accuracy  false-rej  wrong-acc   open  false-acc   ms/utt (p95)',
  ];
  for (const { set, condition, rates: r } of rows) {
    out.push(
      `${set.padEnd(9)} ${condition.padEnd(9)} ${String(r.commands).padStart(9)}  ${pct(r.accuracy)}   ${pct(r.falseRejects)}    ${pct(r.wrongAccepts)}  ${String(r.open).padStart(5)}    ${pct(r.falseAccepts)}   ${r.msMean.toFixed(0).padStart(5)} (${r.msP95.toFixed(0)})`,
    );
  }
  if (curve.length > 0) {
    out.push('', 'tuning set, threshold moved by (score units): accuracy / open-question false accepts');
    out.push(
      curve
        .map(
          (p) =>
            `${p.shift >= 0 ? '+' : ''}${p.shift}: ${pct(p.accuracy).trim()} / ${pct(p.falseAccepts).trim()}`,
        )
        .join('   '),
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
