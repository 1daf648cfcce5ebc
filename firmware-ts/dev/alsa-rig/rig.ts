/**
 * A sound card for machines without one, at the pace of speech: an ALSA capture device and a playback
 * device (alsa-lib's `file` plugin over a clockless `null` slave) fed and drained through two FIFOs by
 * this process at 16 kHz of wall-clock time. What the "room" holds (`input`) reaches the capture FIFO
 * as time passes, whether or not anyone records (as a real microphone: audio nobody reads is lost);
 * what is played is taken from the playback FIFO at the same pace, and silence where nothing plays,
 * so output sample i is what the speaker gave at the moment input sample i was in the room: the two
 * align sample by sample. The playback FIFO is shrunk to one page (4 KiB, 128 ms), about a real
 * codec's buffer: with the pipe's default 64 KiB, aplay would finish two seconds before it was heard.
 *
 * Capture comes in periods, as from a codec: the file plugin fills each read with what one read()
 * of the FIFO gives and zeros after it, so the rig writes whole periods (arecord's default, 2000
 * frames = 125 ms at 16 kHz; `periodFrames` for a client that asks for another), each atomically,
 * the moment the period's last sample is due; arecord waits for the next in its read().
 *
 * Format: S16_LE mono 16 kHz on both sides (the devices convert nothing; the runtime asks for that).
 * Verified with alsa-lib 1.2.8: the file plugin opens `infile` and `file` when the device is opened;
 * a FIFO makes arecord block until the rig writes, and aplay block once the pipe is full.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const RIG_RATE_HZ = 16_000;
const BYTES_PER_SAMPLE = 2;
/** How often the rig moves audio: small beside the 80 ms frames the runtime works in. */
const TICK_MS = 10;
/** One page: the smallest pipe Linux makes, 128 ms at 16 kHz. */
const PIPE_BYTES = 4096;
/** arecord's default period at 16 kHz mono (its 500 ms buffer in four). */
const DEFAULT_PERIOD_FRAMES = 2000;
/** F_SETPIPE_SZ (linux/fcntl.h: F_LINUX_SPECIFIC_BASE + 7). */
const F_SETPIPE_SZ = 1031;

export const CAPTURE_DEVICE = 'glasses_rig_capture';
export const PLAYBACK_DEVICE = 'glasses_rig_playback';

export interface AlsaRigOptions {
  /** Where the FIFOs and asound.conf go (made private); default a new folder in the OS temp dir. */
  dir?: string;
  /** What the microphone hears from the start, 16 kHz mono; silence after it. */
  input?: Int16Array;
  /** The capture client's period (default arecord's at 16 kHz: 2000 frames, 4000 bytes, under PIPE_BUF). */
  periodFrames?: number;
}

export interface AlsaRig {
  readonly dir: string;
  /** ALSA_CONFIG_PATH for the processes that open the devices. */
  readonly env: { ALSA_CONFIG_PATH: string };
  readonly captureDevice: string;
  readonly playbackDevice: string;
  /** Ms of rig time since it started. */
  elapsedMs(): number;
  /** Samples of input that reached a reader (not lost for want of one). */
  capturedSamples(): number;
  /**
   * The room hears `pcm` from the next period on (what it heard before is replaced): the wearer
   * speaking once the glasses are ready. Returns the rig sample it starts at.
   */
  say(pcm: Int16Array): number;
  /** What was played so far, aligned with the input from sample 0. */
  output(): Int16Array;
  /** Resolves once rig time reaches `ms`. */
  until(ms: number): Promise<void>;
  /** Stops the clock, closes the FIFOs, removes the folder (unless given), returns the output. */
  stop(): Int16Array;
}

/** ALSA config strings are double-quoted with backslash escapes; ALSA_CONFIG_PATH splits on ':' and spaces. */
function alsaString(s: string): string {
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

function makeFifo(path: string): void {
  const r = spawnSync('mkfifo', ['-m', '0600', path], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`alsa rig: mkfifo ${path}: ${r.stderr || r.error?.message || 'failed'}`);
}

/**
 * Shrinks a FIFO's pipe to one page. Node has no fcntl; perl (Debian's perl-base, which every Debian
 * and Ubuntu system has) does, and the size holds while the rig keeps the FIFO open.
 */
function shrinkPipe(path: string): void {
  const r = spawnSync(
    'perl',
    [
      '-e',
      `open(my $f, "+<", $ARGV[0]) or die "$!"; fcntl($f, ${F_SETPIPE_SZ}, ${PIPE_BYTES}) or die "$!"`,
      path,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0)
    throw new Error(`alsa rig: cannot shrink the pipe of ${path}: ${r.stderr || 'perl failed'}`);
}

export function startAlsaRig(options: AlsaRigOptions = {}): AlsaRig {
  const own = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'alsa-rig-'));
  if (/[\s:]/.test(dir)) throw new Error(`alsa rig: the folder must not contain spaces or colons: ${dir}`);
  const captureFifo = join(dir, 'capture.fifo');
  const playbackFifo = join(dir, 'playback.fifo');
  makeFifo(captureFifo);
  makeFifo(playbackFifo);
  const conf = join(dir, 'asound.conf');
  writeFileSync(
    conf,
    [
      // The system config first, so every other device still resolves in the processes given this.
      '</usr/share/alsa/alsa.conf>',
      `pcm.${CAPTURE_DEVICE} {`,
      '  type file',
      '  slave.pcm { type null }',
      '  file "/dev/null"',
      `  infile ${alsaString(captureFifo)}`,
      '  format "raw"',
      '}',
      `pcm.${PLAYBACK_DEVICE} {`,
      '  type file',
      '  slave.pcm { type null }',
      `  file ${alsaString(playbackFifo)}`,
      '  format "raw"',
      '}',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );

  // Held open for the rig's life: reading never sees a writer's open block, and the pipe (with its
  // size) lives on between aplay runs.
  const playbackFd = openSync(playbackFifo, constants.O_RDONLY | constants.O_NONBLOCK);
  shrinkPipe(playbackFifo);
  let captureFd: number | undefined;

  let input = options.input ?? new Int16Array(0);
  /** The rig sample `input` starts at. */
  let inputFrom = 0;
  const period = options.periodFrames ?? DEFAULT_PERIOD_FRAMES;
  if (period * BYTES_PER_SAMPLE > PIPE_BYTES)
    throw new Error(`alsa rig: a period of ${period} frames is over PIPE_BUF`);
  const out: Int16Array[] = [];
  let outSamples = 0;
  let fedSamples = 0;
  let captured = 0;
  let carry: number | undefined;
  const t0 = performance.now();
  const elapsedMs = (): number => performance.now() - t0;
  const waiters: { ms: number; resolve: () => void }[] = [];

  function feedCapture(due: number): void {
    while (due - fedSamples >= period) {
      if (captureFd === undefined) {
        try {
          // Succeeds only while a reader has the FIFO open (arecord, blocked in its open until now).
          captureFd = openSync(captureFifo, constants.O_WRONLY | constants.O_NONBLOCK);
        } catch {
          // Nobody records: the period is lost, as from a microphone nobody reads.
          fedSamples += period;
          continue;
        }
      }
      const piece = new Int16Array(period);
      const at = fedSamples - inputFrom;
      if (at >= 0 && at < input.length) piece.set(input.subarray(at, Math.min(input.length, at + period)));
      try {
        // Under PIPE_BUF: written whole or not at all, so a read never sees part of a period.
        writeSync(captureFd, Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
        captured += period;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EPIPE') {
          // The reader went away: reopen when the next one comes.
          closeSync(captureFd);
          captureFd = undefined;
        }
        // EAGAIN: the reader is a whole pipe behind; like an overrun, the period is lost.
      }
      fedSamples += period;
    }
  }

  function drainPlayback(due: number): void {
    if (due <= outSamples) return;
    const want = (due - outSamples) * BYTES_PER_SAMPLE;
    const got = Buffer.alloc(want);
    let n = 0;
    if (carry !== undefined) got[n++] = carry;
    carry = undefined;
    while (n < want) {
      let r: number;
      try {
        r = readSync(playbackFd, got, n, want - n, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw err;
      }
      if (r === 0) break;
      n += r;
    }
    // A sample split across reads waits for its other byte.
    if (n % 2 === 1) carry = got[--n];
    const samples = new Int16Array(due - outSamples);
    // Buffer.alloc is not pooled: offset 0, so 2-byte aligned.
    samples.set(new Int16Array(got.buffer, got.byteOffset, n / BYTES_PER_SAMPLE));
    // Where nothing was played (or the player fell behind): silence, as a device's underrun gives.
    out.push(samples);
    outSamples = due;
  }

  const tick = (): void => {
    const ms = elapsedMs();
    const due = Math.floor((ms * RIG_RATE_HZ) / 1000);
    feedCapture(due);
    drainPlayback(due);
    for (const w of waiters.filter((x) => x.ms <= ms)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const timer = setInterval(tick, TICK_MS);
  let stopped = false;

  return {
    dir,
    env: { ALSA_CONFIG_PATH: conf },
    captureDevice: CAPTURE_DEVICE,
    playbackDevice: PLAYBACK_DEVICE,
    elapsedMs,
    capturedSamples: () => captured,
    say(pcm: Int16Array) {
      input = pcm;
      inputFrom = fedSamples;
      return inputFrom;
    },
    output() {
      const all = new Int16Array(outSamples);
      let at = 0;
      for (const piece of out) {
        all.set(piece, at);
        at += piece.length;
      }
      return all;
    },
    until(ms: number) {
      return new Promise<void>((resolve) => {
        if (elapsedMs() >= ms) resolve();
        else waiters.push({ ms, resolve });
      });
    },
    stop() {
      if (!stopped) {
        stopped = true;
        clearInterval(timer);
        tick();
        if (captureFd !== undefined) closeSync(captureFd);
        closeSync(playbackFd);
        if (own) rmSync(dir, { recursive: true, force: true });
      }
      return this.output();
    },
  };
}
