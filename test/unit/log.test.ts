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

describe('log lines for the journal', () => {
  it('one line per entry, the syslog priority first, so journalctl -p filters', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', format: 'journal' }, { writeLine: (l) => lines.push(l) });
    const run = log.child({ component: 'run' });
    run.error({ code: 'E_MIC_FAILED' }, 'microphone stopped');
    run.warn('no camera');
    run.info({ phrase: 'hey_quark' }, 'listening\nfor the phrase');
    run.debug('detail');
    log.fatal('gone');
    expect(lines).toEqual([
      '<3>run: microphone stopped  (code="E_MIC_FAILED")',
      '<4>run: no camera',
      '<6>run: listening for the phrase  (phrase="hey_quark")',
      '<7>run: detail',
      '<2>gone',
    ]);
  });

  it('keeps its level and the loop time as a field', () => {
    const lines: string[] = [];
    const log = createLogger(
      { level: 'info', format: 'journal' },
      { loopMs: () => 1234.4, writeLine: (l) => lines.push(l) },
    );
    log.debug('hidden');
    log.info('shown');
    expect(lines).toEqual(['<6>shown  (atMs=1234)']);
  });
});
