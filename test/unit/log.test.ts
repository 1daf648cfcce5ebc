import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../firmware-ts/src/hal/clock.js';
import { createLogger } from '../../firmware-ts/src/log.js';

describe('log lines on the loop clock', () => {
  it('in a terminal, each line is one timeline line stamped with the loop time, not the wall clock', async () => {
    const clock = new SimulatedClock();
    const lines: string[] = [];
    const log = createLogger(
      { level: 'info', format: 'pretty' },
      { loopMs: () => clock.now(), writeLine: (l) => lines.push(l) },
    );
    const vision = log.child({ component: 'vision' });
    await clock.advance(39_360);
    vision.info({ objects: 5, detectMs: 363 }, 'looked');
    await clock.advance(1234);
    vision.warn({ device: '/dev/video0' }, 'no camera');
    log.info('plain');
    expect(lines).toEqual([
      '  39.36s  vision    looked  (objects=5 detectMs=363)',
      '  40.59s  vision    WARN: no camera  (device="/dev/video0")',
      '  40.59s  log       plain',
    ]);
  });

  it('keeps its level: debug lines stay out at info', () => {
    const lines: string[] = [];
    const log = createLogger(
      { level: 'info', format: 'pretty' },
      { loopMs: () => 0, writeLine: (l) => lines.push(l) },
    );
    log.debug({ transcript: 'what time is it' }, 'recognised');
    expect(lines).toEqual([]);
  });
});
