/**
 * espeak-ng, flite, festival and sox, run as child processes with their audio on pipes (no temporary files), and a
 * small worker pool to run them two at a time.
 *
 * Determinism: espeak-ng gives the same samples for the same arguments; sox runs with -R (fixed seeds
 * for anything random) and -D (no dither). Everything random about a clip is drawn in TypeScript from
 * the clip's seeded stream and passed to them as arguments.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { decodeWav } from '../../audio/wav.js';
import { downmix, floatToInt16, int16ToFloat, resample } from '../../audio/resample.js';
import { GlassesError } from '../../errors.js';
import { describeExit, runChild } from '../../util/child.js';
import { WakeDataError } from './errors.js';
import type { Engine } from './voices.js';

export const SAMPLE_RATE_HZ = 16_000;

async function run(
  command: string,
  args: readonly string[],
  signal: AbortSignal,
  input?: Buffer | string,
): Promise<Buffer> {
  const r = await runChild(command, args, {
    signal,
    stderrTail: 2000,
    ...(input === undefined ? {} : { input }),
  });
  if (r.kind === 'aborted')
    throw new GlassesError('E_ABORTED', `${command} stopped: data generation was cancelled`);
  if (r.kind === 'failed-to-start') {
    throw new WakeDataError(
      'E_WAKE_DATA',
      `${command} cannot start (${r.error.message}): install ${command}`,
      {
        details: { command },
        cause: r.error,
      },
    );
  }
  if (r.code !== 0) {
    const last = r.stderr.trim().split('\n').pop() ?? '';
    throw new WakeDataError(
      'E_WAKE_DATA',
      `${command} ${describeExit(r, last)}; arguments: ${args.map((a) => JSON.stringify(a)).join(' ')}`,
      { details: { command } },
    );
  }
  return r.stdout;
}

export interface SpeakParams {
  /** Which synthesiser (default espeak-ng). */
  engine?: Engine;
  /** espeak-ng `-v`: accent, or accent+variant; flite `-voice`; festival's voice without `voice_`. */
  voice: string;
  /** Words per minute (-s). */
  speedWpm: number;
  /** 0..99 (-p). */
  pitch: number;
  /** Extra pause between words, in 10 ms units at the default speed (-g). */
  wordGap: number;
  text: string;
}

/** espeak-ng's default rate: flite's and festival's duration stretch is this over the rate asked for. */
const ESPEAK_DEFAULT_WPM = 175;

/**
 * Speech from one of the synthesisers, as 16 kHz mono samples in [-1, 1]. flite and festival take
 * the rate as a duration stretch; their pitch is moved by sox afterwards (render.ts), and wordGap
 * is espeak-ng's alone.
 */
export async function speak(p: SpeakParams, signal: AbortSignal): Promise<Float32Array> {
  const stretch = (ESPEAK_DEFAULT_WPM / p.speedWpm).toFixed(3);
  if (p.engine === 'flite') {
    // flite and text2wave write to a file name; Node's stdio pipes are sockets, which /dev/stdout
    // cannot be opened on, so a shell pipe stands between (no temporary file). The text is an
    // argument, never part of the shell's script.
    const wav = await viaPipe(
      'flite',
      ['-voice', p.voice, '--setf', `duration_stretch=${stretch}`, '-t', p.text, '-o', '/dev/stdout'],
      signal,
    );
    return toModelRate(decodeWav(wav, `flite ${p.voice} "${p.text}"`));
  }
  if (p.engine === 'festival') {
    // text2wave cannot seek back into a pipe to write a WAV header's length: raw samples at 16 kHz.
    const raw = await viaPipe(
      'text2wave',
      [
        '-eval', `(voice_${p.voice})`,
        '-eval', `(Parameter.set 'Duration_Stretch ${stretch})`,
        '-F', String(SAMPLE_RATE_HZ), '-otype', 'raw', '-o', '/dev/stdout',
      ], // prettier-ignore
      signal,
      p.text,
    );
    return fromRaw(raw, 1);
  }
  const args = ['-v', p.voice, '-s', String(p.speedWpm), '-p', String(p.pitch), '-g', String(p.wordGap)];
  // --stdin reads the whole text (one utterance, however many lines) instead of line by line.
  const wav = await run('espeak-ng', [...args, '--stdout', '--stdin'], signal, p.text);
  return toModelRate(decodeWav(wav, `espeak-ng ${p.voice} "${p.text}"`));
}

/** Runs `command args` with its stdout a real pipe (see speak), through bash (for pipefail). */
function viaPipe(
  command: string,
  args: readonly string[],
  signal: AbortSignal,
  input?: string,
): Promise<Buffer> {
  return run('bash', ['-c', 'set -o pipefail; "$0" "$@" | cat', command, ...args], signal, input);
}

/** espeak-ng phoneme mnemonics (`-x`) of each text, in one process; one line in, one line out. */
export async function phonemize(
  texts: readonly string[],
  accent: string,
  signal: AbortSignal,
): Promise<string[]> {
  if (texts.some((t) => /[\n.,;:!?]/.test(t))) {
    throw new Error('phonemize: texts must be single clauses without punctuation or newlines');
  }
  const out = (await run('espeak-ng', ['-q', '-x', '-v', accent], signal, `${texts.join('\n')}\n`))
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (out.length !== texts.length) {
    throw new WakeDataError(
      'E_WAKE_DATA',
      `espeak-ng -x gave ${out.length} lines of phonemes for ${texts.length} lines of text (${accent})`,
    );
  }
  return out;
}

/** sox reads and writes raw 16-bit PCM on pipes: a WAV header on a pipe holds a guessed length. */
const RAW = ['-t', 'raw', '-r', String(SAMPLE_RATE_HZ), '-e', 'signed-integer', '-b', '16'];

function fromRaw(buf: Buffer, channels: number): Float32Array {
  const pcm = new Int16Array(buf.buffer, buf.byteOffset, Math.floor(buf.length / 2));
  return downmix(int16ToFloat(Int16Array.from(pcm)), channels);
}

/** Runs samples through a sox effects chain (e.g. `['tempo', '-s', '1.1', 'reverb', '50']`). */
export async function soxEffects(
  samples: Float32Array,
  effects: readonly string[],
  signal: AbortSignal,
): Promise<Float32Array> {
  if (effects.length === 0) return samples;
  const pcm = floatToInt16(samples);
  const input = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const out = await run(
    'sox',
    ['-R', '-D', ...RAW, '-c', '1', '-', ...RAW, '-c', '1', '-', ...effects],
    signal,
    input,
  );
  return fromRaw(out, 1);
}

/** Sound from sox's synth effect; `channels` > 1 when synth is given one sound per channel (chords). */
export async function soxSynth(
  channels: number,
  effects: readonly string[],
  signal: AbortSignal,
): Promise<Float32Array> {
  const out = await run('sox', ['-R', '-D', '-n', ...RAW, '-c', String(channels), '-', ...effects], signal);
  return fromRaw(out, channels);
}

function toModelRate(wav: { samples: Float32Array; sampleRateHz: number; channels: number }): Float32Array {
  const mono = downmix(wav.samples, wav.channels);
  return wav.sampleRateHz === SAMPLE_RATE_HZ ? mono : resample(mono, wav.sampleRateHz, SAMPLE_RATE_HZ);
}

/** Version strings of the tools, part of the cache key: another espeak-ng speaks differently. */
export async function toolVersions(signal: AbortSignal): Promise<string> {
  const espeak = (await run('espeak-ng', ['--version'], signal)).toString('utf8').trim();
  const sox = (await run('sox', ['--version'], signal)).toString('utf8').trim();
  const flite = await optionalVersion('flite', ['--version'], signal);
  const festival = await optionalVersion('festival', ['--version'], signal);
  return [espeak, sox, flite, festival].filter((v) => v !== '').join('\n');
}

async function optionalVersion(
  command: string,
  args: readonly string[],
  signal: AbortSignal,
): Promise<string> {
  const r = await runChild(command, args, { signal, stderrTail: 500 });
  if (r.kind !== 'exited') return '';
  return `${r.stdout.toString('utf8')}${r.stderr}`.trim().split('\n')[0] ?? '';
}

/**
 * The other synthesisers' voices that are installed: flite's (`flite -lv`) and festival's (the
 * voice folders festival loads from). Either list is empty when its synthesiser is missing.
 */
export async function otherVoiceListings(
  signal: AbortSignal,
): Promise<{ languages: string[]; flite: string[]; festival: string[] }> {
  const all = (await run('espeak-ng', ['--voices'], signal)).toString('utf8');
  const languages = [...all.matchAll(/^\s*\d+\s+(\S+)/gm)].map((m) => m[1] ?? '').filter((l) => l !== '');
  const fl = await runChild('flite', ['-lv'], { signal, stderrTail: 500 });
  const flite =
    fl.kind === 'exited' && fl.code === 0
      ? (/Voices available:(.*)/.exec(fl.stdout.toString('utf8'))?.[1] ?? '').trim().split(/\s+/)
      : [];
  const festival: string[] = [];
  try {
    for (const language of await fs.readdir(FESTIVAL_VOICE_DIR)) {
      for (const voice of await fs.readdir(join(FESTIVAL_VOICE_DIR, language))) festival.push(voice);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return { languages: [...new Set(languages)], flite, festival };
}

/** Where Debian's festival voices live. */
const FESTIVAL_VOICE_DIR = '/usr/share/festival/voices';

/** Listings for voices.ts, and whether mbrola is installed. */
export async function voiceListings(
  signal: AbortSignal,
): Promise<{ english: string; variants: string; mbrola: boolean }> {
  const english = (await run('espeak-ng', ['--voices=en'], signal)).toString('utf8');
  const variants = (await run('espeak-ng', ['--voices=variant'], signal)).toString('utf8');
  const mbrola = await runChild('mbrola', ['-h'], { signal, stdout: false }).then((r) => r.kind === 'exited');
  return { english, variants, mbrola };
}

/**
 * Runs `fn` over `items`, `concurrency` at a time. The first failure stops the rest from starting;
 * it is thrown once the items already running have settled, so nothing runs on after the call.
 */
export async function pool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        await fn(items[i] as T, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const settled = await Promise.allSettled(
    Array.from({ length: Math.min(concurrency, items.length) }, worker),
  );
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
}
