/** The ALSA microphone: arecord, spawned by node-record-lpcm16, streaming raw S16_LE. */
import { createRequire } from 'node:module';
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { MODEL_SAMPLE_RATE_HZ, samplesToMs, type AudioChunk } from '../audio/chunk.js';
import { GlassesError } from '../errors.js';
import type { Log } from '../log.js';
import type { Mic } from './mic.js';

interface Recording {
  process: ChildProcess;
  stream(): Readable;
  stop(): void;
}
interface RecordModule {
  record(options: Record<string, unknown>): Recording;
}
// node-record-lpcm16 is CommonJS without types.
const recorder = createRequire(import.meta.url)('node-record-lpcm16') as RecordModule;

export interface AlsaMicOptions {
  /** ALSA capture device, as for `arecord -D`. */
  device: string;
  log: Log;
}

export class AlsaMic implements Mic {
  readonly name: string;

  constructor(private readonly options: AlsaMicOptions) {
    this.name = `alsa:${options.device}`;
  }

  async *chunks(signal: AbortSignal): AsyncIterable<AudioChunk> {
    const { device, log } = this.options;
    const rec = recorder.record({
      recorder: 'arecord',
      device,
      sampleRate: MODEL_SAMPLE_RATE_HZ,
      channels: 1,
      audioType: 'raw',
    });
    const proc = rec.process;
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    let spawnError: Error | undefined;
    proc.on('error', (err) => {
      spawnError = err;
    });
    const exit = new Promise<number | null>((resolve) => {
      proc.on('close', resolve);
    });
    // The library also reports a failed exit as an 'error' string on the stream; the exit code below says it better.
    const stream = rec.stream();
    stream.on('error', () => undefined);
    const onAbort = (): void => {
      proc.kill('SIGTERM');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    log.info({ device }, 'microphone open');

    let carry: Buffer | undefined;
    let samples = 0;
    try {
      for await (const data of stream as AsyncIterable<Buffer>) {
        // Pipe reads can split a 16-bit sample; keep the odd byte for the next read.
        const bytes = carry === undefined ? data : Buffer.concat([carry, data]);
        const whole = bytes.length - (bytes.length % 2);
        carry = whole < bytes.length ? bytes.subarray(whole) : undefined;
        if (whole === 0) continue;
        const pcm = new Int16Array(whole / 2);
        Buffer.from(pcm.buffer).set(bytes.subarray(0, whole));
        yield { pcm, sampleRateHz: MODEL_SAMPLE_RATE_HZ, channels: 1, tsMs: samplesToMs(samples) };
        samples += pcm.length;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (proc.exitCode === null) proc.kill('SIGTERM');
    }
    const code = await exit;
    if (signal.aborted) return;
    if (spawnError !== undefined) {
      throw new GlassesError(
        'E_MIC_OPEN',
        `microphone ${device}: cannot start arecord (${spawnError.message}); install alsa-utils`,
        {
          details: { device },
          cause: spawnError,
        },
      );
    }
    if (code !== 0) {
      const why = stderr.trim().split('\n').pop() ?? '';
      throw new GlassesError(
        samples === 0 ? 'E_MIC_OPEN' : 'E_MIC_FAILED',
        `microphone ${device}: arecord exited with code ${code}${why === '' ? '' : ` (${why})`}`,
        { details: { device, code } },
      );
    }
  }
}
