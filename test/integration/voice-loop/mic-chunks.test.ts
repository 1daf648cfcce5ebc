/**
 * A mic read after the loop fell behind hands over seconds of audio at once (a busy board, a pipe
 * that filled). The loop must hear the same thing as from 80 ms reads: here "hey quark, what time
 * is it" in one piece once failed with "I didn't hear anything", capture having begun after it all.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../firmware-ts/src/config.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import { createClock, createFileMic, createSpeaker, createVoiceLoop } from '../../../firmware-ts/src/main.js';
import { SAMPLES_DIR } from '../../../firmware-ts/src/paths.js';
import type { RunEvent } from '../../../firmware-ts/src/voice-loop/runner.js';

const dir = mkdtempSync(join(tmpdir(), 'mic-chunks-'));

async function run(chunkSamples: number): Promise<RunEvent[]> {
  const clock = createClock('file');
  const events: RunEvent[] = [];
  const loop = await createVoiceLoop(loadConfig({ env: {} }), silentLogger(), {
    mic: createFileMic(join(SAMPLES_DIR, 'hey_quark_what_time.wav'), 'fast', clock, chunkSamples),
    speaker: createSpeaker({ file: join(dir, `said-${chunkSamples}.wav`), clock }, silentLogger()),
    pace: 'file',
    clock,
    now: () => new Date(2026, 10, 25, 10, 25),
    onEvent: (e) => events.push(e),
  });
  try {
    await loop.runner.run(new AbortController().signal);
  } finally {
    await loop.close();
  }
  return events;
}

describe('the loop and the size of mic reads', () => {
  // arecord's own period, a second, and the whole clip (3.4 s) in one read.
  it.each([2000, 16_000, 96_000])(
    'hears the command after the wake phrase in reads of %i samples',
    async (n) => {
      const events = await run(n);
      expect(events.filter((e) => e.type === 'wake')).toHaveLength(1);
      expect(events.find((e) => e.type === 'intent')).toMatchObject({ name: 'time', accepted: true });
      expect(events.find((e) => e.type === 'say')).toMatchObject({ text: "It's 10 25 AM.", completed: true });
    },
  );
});
