import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AudioChunk } from '../../firmware-ts/src/audio/chunk.js';
import { Health, type HealthReport } from '../../firmware-ts/src/health.js';
import type { Mic } from '../../firmware-ts/src/hal/mic.js';

function setup(file = join(mkdtempSync(join(tmpdir(), 'health-')), 'run', 'health.json')) {
  const logged: string[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => logged.push(s) });
  let now = 1_000;
  const health = new Health({ file, version: '1.2.3', intervalMs: 1000, log, now: () => now });
  const read = (): HealthReport => JSON.parse(readFileSync(file, 'utf8')) as HealthReport;
  return { health, file, read, logged, tick: (ms: number) => (now += ms) };
}

const chunk: AudioChunk = { pcm: new Int16Array(160), sampleRateHz: 16000, channels: 1, tsMs: 0 };
const mic = (chunks: number): Mic => ({
  name: 'fake',
  async *chunks() {
    for (let i = 0; i < chunks; i++) yield await Promise.resolve(chunk);
  },
});

describe('Health', () => {
  it('is ok only once models, mic and loop are all up, and says which are not', async () => {
    const { health, read, tick } = setup();
    await health.set('modelsLoaded', true);
    expect(read()).toMatchObject({ version: '1.2.3', modelsLoaded: true, micOpen: false, ok: false });
    await health.set('loopRunning', true);
    const seen: number[] = [];
    tick(500);
    for await (const _ of health.watchMic(mic(2)).chunks(new AbortController().signal))
      seen.push(read().atMs);
    // Open at the first chunk; closed when the source ended.
    expect(read()).toMatchObject({ micOpen: false, ok: false });
    await health.set('micOpen', true);
    const r = read();
    expect(r).toMatchObject({ modelsLoaded: true, micOpen: true, loopRunning: true, ok: true, problems: [] });
    expect(r.pid).toBe(process.pid);
    expect(r.startedAtMs).toBe(1_000);
    expect(r.atMs).toBe(1_500);
  });

  it('a problem makes it not ok; stop says the loop is no longer running', async () => {
    const { health, read } = setup();
    await health.set('modelsLoaded', true);
    await health.set('micOpen', true);
    await health.set('loopRunning', true);
    await health.problem('camera /dev/video0 cannot be opened');
    expect(read()).toMatchObject({ ok: false, problems: ['camera /dev/video0 cannot be opened'] });
    await health.stop();
    expect(read().loopRunning).toBe(false);
  });

  it('a report it cannot write is logged once and never throws', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'health-'));
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, '');
    const { health, logged } = setup(join(blocker, 'health.json'));
    await health.set('modelsLoaded', true);
    await health.set('loopRunning', true);
    await health.stop();
    expect(logged.filter((l) => l.includes('cannot write the health report'))).toHaveLength(1);
  });
});

describe('Health start checks', () => {
  it('carries speech, recogniser and speaker; one that failed makes it not ok, naming its code', async () => {
    const { health, read } = setup();
    expect(read).toThrow();
    await health.set('modelsLoaded', true);
    expect(read()).toMatchObject({
      speech: { checked: false },
      recognizer: { checked: false },
      speaker: { checked: false },
    });
    await health.set('micOpen', true);
    await health.set('loopRunning', true);
    await health.checked({
      speech: { checked: true, ok: true, ms: 120 },
      recognizer: { checked: true, ok: true, ms: 310 },
      speaker: { checked: false },
    });
    expect(read()).toMatchObject({ ok: true, speech: { checked: true, ok: true }, problems: [] });
    await health.checked({
      speaker: {
        checked: true,
        ok: false,
        code: 'E_SPEAKER_OPEN',
        message: 'speaker hw:1,0: aplay exited with code 1 (audio open error: No such file or directory)',
      },
    });
    const r = read();
    expect(r.ok).toBe(false);
    expect(r.speaker).toMatchObject({ checked: true, ok: false, code: 'E_SPEAKER_OPEN' });
    // The flash tool reads only `ok` and `problems`: the failure is named there.
    expect(r.problems).toEqual([
      'speaker: E_SPEAKER_OPEN: speaker hw:1,0: aplay exited with code 1 (audio open error: No such file or directory)',
    ]);
    expect(r.speech).toMatchObject({ checked: true, ok: true });
  });
});
