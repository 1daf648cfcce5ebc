/**
 * `glasses run` on the board's path, a microphone device: the real-pace ALSA rig through real
 * arecord, the answer through real aplay. The board's unit sends the command's output to the
 * journal, so what the wearer said and what the glasses answered must not be in it unless asked for.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runOnRig } from '../../helpers/live-run.js';
import { spokenRequest } from '../../helpers/spoken-request.js';

const dir = mkdtempSync(join(tmpdir(), 'live-privacy-'));
let request: Int16Array;

beforeAll(() => {
  request = spokenRequest(dir, 'louder');
});

let runs = 0;
/** `glasses run` on the rig's microphone, spoken to once it listens, then SIGTERM: all it printed. */
async function runLive(extra: string[]): Promise<{ output: string; code: number | null }> {
  const run = await runOnRig(dir, request, `run${runs++}`, extra);
  return { output: run.stdout + run.stderr, code: run.code };
}

describe('glasses run on a microphone device', () => {
  it('prints neither what the wearer said nor the answer, in the timeline or the logs', async () => {
    const { output, code } = await runLive([]);
    expect(output).not.toMatch(/louder/i);
    expect(output).not.toMatch(/volume/i);
    // Yet it did hear and answer, and says so.
    expect(output).toMatch(/intent\s+a command\s+\(\d+ ms on device\)/);
    expect(output).toMatch(/say\s+an answer made on the device/);
    expect(code).toBe(0);
    // A live run writes no audio: nothing to list.
    expect(output).not.toContain('audio written');
  }, 90_000);

  it('leaves them out of --json too', async () => {
    const { output } = await runLive(['--json']);
    const events = output
      .split('\n')
      .filter((l) => l.startsWith('{"type"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.find((e) => e.type === 'intent')).toMatchObject({ accepted: true });
    expect(events.find((e) => e.type === 'say')).toMatchObject({ source: 'device', completed: true });
    expect(output).not.toMatch(/louder/i);
    expect(output).not.toMatch(/volume/i);
  }, 90_000);

  it.each([['--show-content'], ['--log-level', 'debug']])(
    'shows them when the engineer asks, with %s',
    async (...flags) => {
      const { output } = await runLive(flags);
      expect(output).toMatch(/intent\s+louder\s+"louder"/);
      expect(output).toContain('say       "Volume 8 of 10."');
    },
    90_000,
  );
});
