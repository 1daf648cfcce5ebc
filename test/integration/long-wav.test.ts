/**
 * A long WAV is streamed, not decoded whole: the file microphone and `glasses wake` hold a second
 * of it at a time. Each is measured as a child process (the built CLI and runtime) by its peak RSS,
 * which a whole-file decode of these files would raise by several hundred MB (a 10-minute 48 kHz
 * stereo file: 115 MB read, 460 MB of float samples, 115 MB downmixed).
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../firmware-ts/src/audio/wav.js';
import { PACKAGE_ROOT } from '../../firmware-ts/src/paths.js';
import { WAKE_FIXTURES } from '../helpers/fixtures.js';

const DIST = join(PACKAGE_ROOT, 'dist', 'firmware-ts', 'src');
const MB = 1024 * 1024;

/** Writes `seconds` of quiet noise at 48 kHz stereo, a second at a time. */
async function longWav(file: string, seconds: number): Promise<void> {
  const rate = 48_000;
  const second = new Int16Array(rate * 2);
  let x = 1;
  for (let i = 0; i < second.length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    second[i] = (x >> 16) % 500;
  }
  const header = encodeWav(new Int16Array(0), rate, 2);
  const dataBytes = seconds * second.byteLength;
  header.writeUInt32LE(36 + dataBytes, 4);
  header.writeUInt32LE(dataBytes, 40);
  const out = await fs.open(file, 'wx', 0o600);
  try {
    await out.write(header);
    const bytes = Buffer.from(second.buffer);
    for (let s = 0; s < seconds; s++) await out.write(bytes);
  } finally {
    await out.close();
  }
}

/** Runs node with a preload that prints the process's peak RSS (bytes) on stderr as it exits. */
async function peakRss(
  preload: string,
  args: string[],
): Promise<{ stdout: string; stderr: string; rss: number }> {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', preload, ...args], {
    maxBuffer: 16 * MB,
  });
  const m = /peak-rss (\d+)/.exec(stderr);
  if (m === null) throw new Error(`no peak RSS in the child's stderr:\n${stderr}`);
  return { stdout, stderr, rss: Number(m[1]) * 1024 };
}

describe('a long WAV file is streamed', () => {
  let dir: string;
  let preload: string;
  let tenMinutes: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'long-wav-'));
    preload = join(dir, 'peak-rss.mjs');
    await fs.writeFile(
      preload,
      "process.on('exit', () => process.stderr.write(`peak-rss ${process.resourceUsage().maxRSS}\\n`));\n",
      { mode: 0o600, flag: 'wx' },
    );
    tenMinutes = join(dir, 'ten-minutes.wav');
    await longWav(tenMinutes, 600);
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('the file microphone replays 10 minutes of 48 kHz stereo in a bounded memory', async () => {
    const script = [
      `import { WavFileMic } from ${JSON.stringify(join(DIST, 'hal', 'mic.js'))};`,
      `import { SimulatedClock } from ${JSON.stringify(join(DIST, 'hal', 'clock.js'))};`,
      `const mic = new WavFileMic({ file: process.argv[1], pace: 'fast', clock: new SimulatedClock() });`,
      'let samples = 0; let chunks = 0;',
      'for await (const c of mic.chunks(new AbortController().signal)) { samples += c.pcm.length; chunks++; }',
      'console.log(JSON.stringify({ samples, chunks }));',
    ].join('\n');
    const short = await peakRss(preload, [
      '--input-type=module',
      '-e',
      script,
      join(WAKE_FIXTURES, 'multi', 'jarvis_twice.wav'),
    ]);
    const long = await peakRss(preload, ['--input-type=module', '-e', script, tenMinutes]);
    expect(JSON.parse(long.stdout)).toEqual({
      samples: 600 * 16_000,
      chunks: Math.ceil((600 * 16_000) / 1024),
    });
    // The whole file is 115 MB; read whole it took 600 MB and more.
    expect(long.rss - short.rss).toBeLessThan(40 * MB);
  });

  it('glasses wake reads 9 minutes of 48 kHz stereo in the memory it reads 3 minutes in', async () => {
    const threeMinutes = join(dir, 'three-minutes.wav');
    const nineMinutes = join(dir, 'nine-minutes.wav');
    await longWav(threeMinutes, 180);
    await longWav(nineMinutes, 540);
    const wake = (file: string): ReturnType<typeof peakRss> =>
      peakRss(preload, [join(DIST, 'cli.js'), 'wake', '--phrase', 'hey_jarvis', '--log-level', 'warn', file]);
    const short = await wake(join(WAKE_FIXTURES, 'multi', 'jarvis_twice.wav'));
    expect(short.stdout.trim().split('\n')).toHaveLength(2);
    const three = await wake(threeMinutes);
    const nine = await wake(nineMinutes);
    expect(three.stdout).toBe('');
    expect(nine.stdout).toBe('');
    // Read whole, the three minutes (35 MB of samples) took about 180 MB more than the short clip,
    // and six minutes more would take 360 MB more again. Streamed, the length adds nothing beyond
    // the heap's own slack (a few tens of MB above a short clip, whatever the length).
    expect(three.rss - short.rss).toBeLessThan(100 * MB);
    expect(nine.rss - three.rss).toBeLessThan(30 * MB);
  }, 120_000);
});
