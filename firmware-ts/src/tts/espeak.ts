/**
 * The synthesizer port, and eSpeak NG behind it: one `espeak-ng` process per sentence, the text on
 * stdin (never in argv, so text that starts with "-" or holds quotes is only ever text), a WAV on
 * stdout, converted to the 16 kHz mono the rest of the runtime speaks.
 */
import { MODEL_SAMPLE_RATE_HZ, type AudioChunk } from '../audio/chunk.js';
import { downmix, floatToInt16, resample } from '../audio/resample.js';
import { decodeWav } from '../audio/wav.js';
import { describeExit, runChild } from '../util/child.js';
import { GlassesError, isGlassesError } from '../errors.js';
import type { Log } from '../log.js';

export interface Synthesizer {
  /**
   * Speaks `text` into one 16 kHz mono chunk (empty for empty text). When `signal` aborts, synthesis
   * stops at once and the promise rejects with E_ABORTED.
   */
  synthesize(text: string, signal: AbortSignal): Promise<AudioChunk>;
}

export interface EspeakSynthesizerOptions {
  /** An espeak-ng voice, as for `espeak-ng -v` (`espeak-ng --voices` lists them). */
  voice?: string;
  /** espeak-ng's own range is 80..450; 175 is its default. */
  wordsPerMinute?: number;
  /** 0..99; 50 is espeak-ng's default. */
  pitch?: number;
  /** The program to run; a full path when espeak-ng is not on PATH. */
  command?: string;
  log: Log;
}

const DEFAULT_VOICE = 'en-us';
const DEFAULT_WORDS_PER_MINUTE = 175;
const DEFAULT_PITCH = 50;
const INSTALL = 'install espeak-ng';
const REINSTALL =
  'check the voice name (config tts.voice; espeak-ng --voices lists them) or install espeak-ng and espeak-ng-data';
// Names what is parsed in decodeWav's errors.
const STDOUT_NAME = 'espeak-ng stdout';

function checkRange(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new GlassesError(
      'E_CONFIG_INVALID',
      `espeak-ng option ${field}: ${value} is not an integer in ${min}..${max}`,
      { details: { field, value } },
    );
  }
  return value;
}

export class EspeakSynthesizer implements Synthesizer {
  private readonly args: readonly string[];
  private readonly command: string;
  private readonly voice: string;
  private readonly log: Log;

  constructor(options: EspeakSynthesizerOptions) {
    const voice = options.voice ?? DEFAULT_VOICE;
    this.voice = voice;
    const wpm = checkRange('wordsPerMinute', options.wordsPerMinute ?? DEFAULT_WORDS_PER_MINUTE, 80, 450);
    const pitch = checkRange('pitch', options.pitch ?? DEFAULT_PITCH, 0, 99);
    this.command = options.command ?? 'espeak-ng';
    // --stdin reads the whole text to end of input (without it espeak-ng speaks line by line);
    // -b 1: the text is UTF-8.
    this.args = ['--stdout', '--stdin', '-b', '1', '-v', voice, '-s', String(wpm), '-p', String(pitch)];
    this.log = options.log;
  }

  async synthesize(text: string, signal: AbortSignal): Promise<AudioChunk> {
    if (signal.aborted) throw this.aborted();
    if (text.trim() === '') {
      return { pcm: new Int16Array(0), sampleRateHz: MODEL_SAMPLE_RATE_HZ, channels: 1, tsMs: 0 };
    }
    const started = performance.now();
    const wav = await this.run(text, signal);
    const decoded = this.decode(wav);
    const mono = downmix(decoded.samples, decoded.channels);
    const pcm = floatToInt16(resample(mono, decoded.sampleRateHz, MODEL_SAMPLE_RATE_HZ));
    this.log.debug(
      {
        text,
        ms: Math.round(performance.now() - started),
        audioMs: Math.round((pcm.length / MODEL_SAMPLE_RATE_HZ) * 1000),
      },
      'synthesized',
    );
    return { pcm, sampleRateHz: MODEL_SAMPLE_RATE_HZ, channels: 1, tsMs: 0 };
  }

  private aborted(): GlassesError {
    return new GlassesError('E_ABORTED', 'espeak-ng synthesis stopped', {
      details: { command: this.command },
    });
  }

  private failed(reason: string, hint: string, cause?: unknown): GlassesError {
    const which = this.command === 'espeak-ng' ? 'espeak-ng' : `espeak-ng (${this.command})`;
    return new GlassesError('E_TTS_FAILED', `${which} -v ${this.voice}: ${reason}; ${hint}`, {
      details: { command: this.command, voice: this.voice },
      cause,
    });
  }

  private decode(wav: Buffer): ReturnType<typeof decodeWav> {
    try {
      return decodeWav(wav, STDOUT_NAME);
    } catch (err) {
      if (!isGlassesError(err)) throw err;
      throw this.failed(`its output is not a WAV we can read (${err.message})`, REINSTALL, err);
    }
  }

  private async run(text: string, signal: AbortSignal): Promise<Buffer> {
    const r = await runChild(this.command, this.args, {
      input: text,
      signal,
      stderrTail: 2000,
      onSpawn: (pid) => {
        this.log.debug({ pid, args: this.args }, 'espeak-ng started');
      },
    });
    if (r.kind === 'aborted') throw this.aborted();
    if (r.kind === 'failed-to-start')
      throw this.failed(`cannot start it (${r.error.message})`, INSTALL, r.error);
    if (r.code !== 0) throw this.failed(describeExit(r, r.stderr.trim().split('\n').pop() ?? ''), REINSTALL);
    return r.stdout;
  }
}
