import { describe, expect, it } from 'vitest';
import { Timeline } from '../../../firmware-ts/src/commands/timeline.js';
import type { RunEvent } from '../../../firmware-ts/src/voice-loop/runner.js';

const cut: RunEvent = {
  type: 'say',
  atMs: 21_760,
  turnId: 3,
  text: 'I can tell you the time.',
  source: 'device',
  completed: false,
  cutOffAtMs: 24_640,
};

function print(events: RunEvent[], showContent = true): string[] {
  const lines: string[] = [];
  const t = new Timeline((l) => lines.push(l), false, showContent);
  for (const e of events) t.print(e);
  return lines;
}

describe('Timeline', () => {
  it('marks an answer cut short with when it was cut', () => {
    expect(print([cut])).toEqual(['  21.76s  say       "I can tell you the time."  [cut off at 24.64s]']);
  });

  it('leaves what was said out unless asked', () => {
    const lines = print([cut], false);
    expect(lines.join('\n')).not.toContain('tell you');
    expect(lines.at(-1)).toContain('an answer made on the device  [cut off at 24.64s]');
  });
});
