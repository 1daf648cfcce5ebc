/** The progress lines and the summary a person reads. */
import { describe, expect, it } from 'vitest';
import type { BoardFlashResult } from '../../../firmware-ts/src/flash/flash-board.js';
import { progressPrinter, resultJson, summaryTable } from '../../../firmware-ts/src/flash/report.js';

const ok: BoardFlashResult = {
  board: 'pi@glasses-1',
  outcome: 'ok',
  version: '0.2.0',
  slot: 'b',
  previousVersion: '0.1.0',
  previousSlot: 'a',
  targetSlot: 'b',
  seconds: 41.27,
};
const back: BoardFlashResult = {
  ...ok,
  board: 'pi@glasses-22:2222',
  outcome: 'rolled-back',
  version: '0.1.0',
  slot: 'a',
  seconds: 95.04,
  error: {
    code: 'E_FLASH_HEALTH',
    message: 'pi@glasses-22:2222: 0.2.0 on slot b: mic: no device; rolled back to slot a',
  },
};

describe('flash report', () => {
  it('prints one line per step and upload tenth, per board', () => {
    const lines: string[] = [];
    const print = progressPrinter((l) => lines.push(l));
    print({ board: 'b1', step: 'connecting' });
    for (const pct of [0, 3, 9, 10, 14, 55, 100]) print({ board: 'b1', step: 'uploading', pct });
    print({ board: 'b2', step: 'connecting' });
    print({ board: 'b1', step: 'waiting for health', detail: '0.2.0 not ok: mic' });
    print({ board: 'b1', step: 'waiting for health', detail: '0.2.0 not ok: mic' });
    print({ board: 'b1', step: 'done', detail: 'ok' });
    expect(lines).toEqual([
      'flash b1: connecting',
      'flash b1: uploading 0%',
      'flash b1: uploading 10%',
      'flash b1: uploading 50%',
      'flash b1: uploading 100%',
      'flash b2: connecting',
      'flash b1: waiting for health (0.2.0 not ok: mic)',
    ]);
  });

  it('sums up in aligned columns, then gives the reason for each board not ok', () => {
    expect(summaryTable([ok, back]).split('\n')).toEqual([
      'board               version  slot  result       seconds',
      'pi@glasses-1        0.2.0    b     ok              41.3',
      'pi@glasses-22:2222  0.1.0    a     rolled-back     95.0',
      '',
      'pi@glasses-22:2222: E_FLASH_HEALTH: pi@glasses-22:2222: 0.2.0 on slot b: mic: no device; rolled back to slot a',
    ]);
    expect(summaryTable([{ ...ok, outcome: 'unknown', version: null, slot: null }]).split('\n')[1]).toMatch(
      /^pi@glasses-1\s+\?\s+\?\s+unknown\s+41\.3$/,
    );
  });

  it("quotes a failed build's log lines under its reason, and in its JSON", () => {
    const died = {
      ...back,
      log: ['Error: corrupted entry point', '    at file:///opt/glasses/current/x.js:1'],
    };
    expect(summaryTable([died]).split('\n').slice(-3)).toEqual([
      '  its log on the board, last 2 lines:',
      '  | Error: corrupted entry point',
      '  |     at file:///opt/glasses/current/x.js:1',
    ]);
    expect((JSON.parse(resultJson(died)) as { log: string[] }).log).toEqual(died.log);
  });

  it('gives one JSON object per board for --json', () => {
    expect(JSON.parse(resultJson(back))).toEqual({
      board: 'pi@glasses-22:2222',
      result: 'rolled-back',
      version: '0.1.0',
      slot: 'a',
      previousVersion: '0.1.0',
      previousSlot: 'a',
      targetSlot: 'b',
      seconds: 95,
      error: back.error,
    });
  });
});
