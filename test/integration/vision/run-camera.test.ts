/**
 * The vision intents through the whole loop, as a developer runs it: `glasses run --mic FILE.wav
 * --camera IMAGE --json`, with the real wake engine, pocketsphinx, detector, OCR and espeak-ng.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT, SAMPLES_DIR } from '../../../firmware-ts/src/paths.js';
import type { RunEvent } from '../../../firmware-ts/src/voice-loop/runner.js';
import { PHOTOS_DIR } from '../../helpers/vision.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'firmware-ts', 'src', 'cli.js');
const SPEECH = join(PACKAGE_ROOT, 'test', 'fixtures', 'generated', 'speech', 'commands');
const dir = mkdtempSync(join(tmpdir(), 'run-camera-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The default wake phrase ("hey quark") then each command, as one WAV; 8 s between requests, so the
 * answer is said and the follow-up window has closed before the next wake phrase.
 */
function request(...commands: string[]): string {
  const out = join(dir, `${commands.join('+')}.wav`);
  const gap = join(dir, 'gap.wav');
  execFileSync('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', gap, 'trim', '0', '8']);
  const parts = commands.flatMap((c, i) => [
    ...(i > 0 ? [gap] : []),
    join(SAMPLES_DIR, 'hey_quark.wav'),
    join(SPEECH, `${c}__en-us_160.wav`),
  ]);
  execFileSync('sox', [...parts, '-r', '16000', '-c', '1', '-b', '16', out, 'pad', '0', '3']);
  return out;
}

async function run(mic: string, camera: string): Promise<RunEvent[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      CLI,
      'run',
      '--mic',
      mic,
      '--speaker',
      join(dir, 'said.wav'),
      '--camera',
      camera,
      '--json',
      '--log-level',
      'warn',
    ],
    { timeout: 120_000, maxBuffer: 16 * 2 ** 20 },
  );
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunEvent);
}

const said = (events: RunEvent[]): string[] => events.flatMap((e) => (e.type === 'say' ? [e.text] : []));

describe('glasses run --camera', () => {
  it('names what the camera sees for "what is this"', async () => {
    const events = await run(request('what_is_this'), join(PHOTOS_DIR, 'messi5.jpg'));
    expect(said(events)).toContainEqual(expect.stringMatching(/^That's a (person|sports ball)/));
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
  }, 130_000);

  it('reads the label for "read this" and the price for "how much is this"', async () => {
    // Two requests in one run: each run loads every model again, which is most of its time.
    const tag = join(SAMPLES_DIR, 'camera', '2-price-tag.jpg');
    const events = await run(request('read_this', 'how_much_is_this'), tag);
    expect(said(events)).toContain('It says: Red apples. 12 yuan 50.');
    expect(said(events)).toContain("It's 12 yuan 50.");
    expect(said(events).indexOf('It says: Red apples. 12 yuan 50.')).toBeLessThan(
      said(events).indexOf("It's 12 yuan 50."),
    );
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
  }, 130_000);

  it('says it cannot see well when the camera gives a broken frame, and goes on', async () => {
    const broken = join(PACKAGE_ROOT, 'test', 'fixtures', 'generated', 'vision', 'bad', 'truncated.jpg');
    const events = await run(request('what_is_this'), broken);
    expect(said(events)).toContain("I can't see well enough to tell.");
    expect(events.at(-1)).toMatchObject({ type: 'state', to: 'idle' });
  }, 130_000);
});
