/**
 * The whole loop on the embedded default: the bundled scenario (espeak-ng requests) through the real
 * wake engine, Silero endpointer, pocketsphinx, responder, espeak-ng and a timeline speaker.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';
import type { RunEvent } from '../../../firmware-ts/src/voice-loop/runner.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'firmware-ts', 'src', 'cli.js');
const out = mkdtempSync(join(tmpdir(), 'demo-'));
let events: RunEvent[] = [];

beforeAll(async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [CLI, 'run', '--demo', '--json', '--out', out, '--log-level', 'warn'],
    { timeout: 170_000, maxBuffer: 16 * 2 ** 20 },
  );
  events = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunEvent);
}, 180_000);

const of = <T extends RunEvent['type']>(type: T): Extract<RunEvent, { type: T }>[] =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

describe('glasses run --demo (the bundled scenario)', () => {
  it('hears the wake phrase each time it is said', () => {
    expect(of('wake').filter((w) => !w.echo)).toHaveLength(6);
  });

  it('understands the commands, in order, and treats the open question as one', () => {
    const commands = of('intent').filter((i) => i.purpose === 'command');
    expect(commands.map((i) => i.name)).toEqual([
      'time',
      'battery',
      'help',
      'louder',
      'open_question',
      'identify',
      'price',
    ]);
    expect(commands.find((i) => i.name === 'open_question')?.accepted).toBe(false);
  });

  it('answers on the device, says the open question needs the cloud, and says when nothing was heard', () => {
    const said = of('say').map((s) => s.text);
    expect(said[0]).toMatch(/^It's \d+ /);
    expect(said).toContainEqual(expect.stringMatching(/battery/i));
    expect(said).toContainEqual(expect.stringMatching(/^Volume 8 of 10/));
    expect(said).toContainEqual(expect.stringMatching(/needs the cloud/));
    expect(said[said.length - 1]).toBe("I didn't hear anything.");
  });

  it('looks through the demo camera: names what it sees, then reads the price on the label', () => {
    const said = of('say').map((s) => s.text);
    expect(said).toContainEqual(expect.stringMatching(/(That's|It might be) an? (orange|apple|banana)/));
    expect(said).toContain("It's 12 yuan 50.");
    const price = of('intent').find((i) => i.name === 'price');
    expect(price?.turnId).toBe(of('intent').find((i) => i.name === 'identify')?.turnId);
  });

  it('asks "battery" in the follow-up window, without the wake phrase', () => {
    const battery = of('intent').find((i) => i.name === 'battery');
    expect(battery?.turnId).toBe(of('intent').find((i) => i.name === 'time')?.turnId);
  });

  it('the wake phrase during the long help answer interrupts it (barge-in)', () => {
    const help = of('say').find((s) => s.text.startsWith('I can tell you'));
    expect(help?.completed).toBe(false);
  });

  it('ends idle, with no error, and writes the answers as WAV files', () => {
    const states = of('state');
    expect(states[states.length - 1]?.to).toBe('idle');
    expect(of('error')).toEqual([]);
    expect(existsSync(join(out, 'conversation.wav'))).toBe(true);
    expect(existsSync(join(out, 'answer-01.wav'))).toBe(true);
  });

  it('reports how long the device took from the end of speech to the first audio of a reply', () => {
    const first = of('say').find((s) => s.firstAudioMs !== undefined);
    expect(first?.firstAudioMs).toBeGreaterThan(0);
  });
});
