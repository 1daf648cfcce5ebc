/** The ALSA speaker: one aplay process per utterance, fed raw S16_LE on stdin. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { AudioChunk } from '../audio/chunk.js';
import { GlassesError } from '../errors.js';
import type { Log } from '../log.js';
import { describeExit, runChild } from '../util/child.js';
import type { Speaker } from './speaker.js';

export interface AplaySpeakerOptions {
  /** ALSA playback device, as for `aplay -D`. */
  device: string;
  log: Log;
}

export class AplaySpeaker implements Speaker {
  readonly name: string;

  constructor(private readonly options: AplaySpeakerOptions) {
    this.name = `alsa:${options.device}`;
  }

  /**
   * Opens the device with no audio, so that aplay says why it cannot (no such device, busy): play()
   * may only see aplay's stdin close when it dies that fast. E_SPEAKER_OPEN naming the device.
   */
  async probe(sampleRateHz: number, signal: AbortSignal): Promise<void> {
    const { device } = this.options;
    const format = ['-t', 'raw', '-f', 'S16_LE', '-r', String(sampleRateHz), '-c', '1'];
    const probe = await runChild('aplay', ['-q', '-D', device, ...format], {
      input: Buffer.alloc(0),
      signal,
      stderrTail: 2000,
    });
    if (probe.kind === 'exited' && probe.code === 0) return;
    const why =
      probe.kind === 'exited'
        ? describeExit(probe, probe.stderr.trim().split('\n').pop() ?? '')
        : probe.kind === 'aborted'
          ? 'did not open in time'
          : `cannot start (${probe.error.message}); install alsa-utils`;
    throw new GlassesError('E_SPEAKER_OPEN', `speaker ${device}: aplay ${why}`, { details: { device } });
  }

  async play(audio: AsyncIterable<AudioChunk> | Iterable<AudioChunk>, signal: AbortSignal): Promise<void> {
    const { device } = this.options;
    const iterator: AsyncIterator<AudioChunk> | Iterator<AudioChunk> =
      Symbol.asyncIterator in audio ? audio[Symbol.asyncIterator]() : audio[Symbol.iterator]();
    // A function, not the property: TypeScript would keep an earlier check's narrowing across awaits.
    const stopped = (): boolean => signal.aborted;
    const first = await iterator.next();
    if (first.done === true) return;
    const { sampleRateHz, channels } = first.value;
    if (signal.aborted)
      throw new GlassesError('E_ABORTED', `playback on ${device} stopped`, { details: { device } });

    const proc = spawn(
      'aplay',
      ['-q', '-D', device, '-t', 'raw', '-f', 'S16_LE', '-r', String(sampleRateHz), '-c', String(channels)],
      {
        stdio: ['pipe', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    // EPIPE when aplay dies early is reported through its exit code below.
    proc.stdin.on('error', () => undefined);
    const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
      proc.on('error', (error) => {
        resolve({ code: null, error });
      });
      proc.on('close', (code) => {
        resolve({ code });
      });
    });
    const onAbort = (): void => {
      // SIGKILL: aplay drains its buffer on SIGTERM, and barge-in must silence the glasses now.
      proc.kill('SIGKILL');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      let next: IteratorResult<AudioChunk> = first;
      while (next.done !== true && !stopped() && proc.exitCode === null) {
        const pcm = next.value.pcm;
        if (!proc.stdin.write(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength))) {
          // once() rejects on the stdin's EPIPE when aplay dies first; the exit code below says why.
          await Promise.race([once(proc.stdin, 'drain').catch(() => undefined), exited]);
        }
        try {
          next = await iterator.next();
        } catch (err) {
          // If the audio source fails, aplay must not be left waiting on its stdin.
          proc.kill('SIGKILL');
          throw err;
        }
      }
      proc.stdin.end();
      const { code, error } = await exited;
      if (stopped())
        throw new GlassesError('E_ABORTED', `playback on ${device} stopped`, { details: { device } });
      if (error !== undefined) {
        throw new GlassesError(
          'E_SPEAKER_OPEN',
          `speaker ${device}: cannot start aplay (${error.message}); install alsa-utils`,
          {
            details: { device },
            cause: error,
          },
        );
      }
      if (code !== 0) {
        const why = stderr.trim().split('\n').pop() ?? '';
        // aplay reports a device it cannot open as "audio open error"; anything else failed mid-way.
        const errorCode = /open/i.test(why) ? 'E_SPEAKER_OPEN' : 'E_SPEAKER_FAILED';
        throw new GlassesError(
          errorCode,
          `speaker ${device}: aplay exited with code ${code}${why === '' ? '' : ` (${why})`}`,
          {
            details: { device, code },
          },
        );
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    // Nothing stays open between utterances.
  }
}
