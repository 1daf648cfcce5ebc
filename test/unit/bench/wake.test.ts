/**
 * `bench wake` puts its two sides side by side: each figure comes from the side it names, the ratio
 * from both sides of the same run, and the order alternates between rounds. The sides are fakes with
 * known speeds here; test/integration/bench.test.ts runs the real ones.
 */
import { describe, expect, it } from 'vitest';
import {
  benchWake,
  type RunWakeSide,
  type SideResult,
  type WakeSide,
} from '../../../firmware-ts/src/bench/wake.js';

const FRAME_MS = 80;

function side(msPerFrame: number, over: Partial<SideResult> = {}): SideResult {
  return {
    msPerFrame,
    frames: 344,
    rssMb: 100,
    latenciesMs: [200, 300, 400, 500],
    detected: 4,
    phrases: 4,
    ...over,
  };
}

/** A side `slower` times slower than ours each round, with round-to-round spread so medians matter. */
function sides(
  slower: number,
  ours: number[],
): { run: (s: WakeSide) => Promise<SideResult>; order: WakeSide[] } {
  const order: WakeSide[] = [];
  const n = { ours: 0, peer: 0 };
  return {
    order,
    run: (s) => {
      order.push(s);
      const ms = ours[n[s]++]!;
      return Promise.resolve(
        s === 'ours'
          ? side(ms, {
              featuresMsPerFrame: ms * 0.6,
              headsMsPerFrame: ms * 0.3,
              own: {
                phrase: 'hey_quark',
                verifier: true,
                msPerFrame: ms * 1.5,
                headsMsPerFrame: ms * 0.5,
                verifierRuns: 40,
                verifierMsPerRun: 2,
                verifierMsPerTrigger: 10,
                detections: 8,
                frames: 1685,
              },
            })
          : side(ms * slower, { rssMb: 300, latenciesMs: [100, 100, 100, 900], detected: 3 }),
      );
    },
  };
}

async function report(args: string[], run: RunWakeSide): Promise<Record<string, unknown>> {
  const lines: string[] = [];
  expect(await benchWake(['--json', ...args], (l) => lines.push(l), run)).toBe(0);
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

describe('bench wake, side by side', () => {
  it('reports a peer three times slower as a ratio of 3, from the medians of both sides', async () => {
    const { run, order } = sides(3, [2, 10, 2.2]);
    const r = await report(['--rounds', '3'], run);
    // Median of ours is 2.2 (not the 10 of the slow round); the peer's is 6.6.
    expect(r.msPerFrame).toBeCloseTo(2.2, 3);
    expect((r.peer as Record<string, unknown>).msPerFrame).toBeCloseTo(6.6, 3);
    expect(r.ratioVsPeer).toBeCloseTo(3, 2);
    expect(r.rtf).toBeCloseTo(2.2 / FRAME_MS, 4);
    expect(r.featuresMsPerFrame).toBeCloseTo(2.2 * 0.6, 3);
    expect(r.headsMsPerFrame).toBeCloseTo(2.2 * 0.3, 3);
    // Latency as felt: the median audio delay plus the compute of the frame that fires.
    expect(r.latencyMs).toBeCloseTo(350 + 2.2, 1);
    expect(r.rssMb).toBe(100);
    expect(r.detected).toBe('4/4');
    expect(r.peer).toMatchObject({ rssMb: 300, detected: '3/4' });
    expect((r.peer as Record<string, unknown>).latencyMs).toBeCloseTo(100 + 6.6, 1);
    expect(r.ownPhrase).toMatchObject({ msPerFrame: 3.3, msPerFrameVsOneHead: 1.5, detections: 8 });
    expect(r.rounds).toBe(3);
    // Neither side always runs first, on the warmer machine.
    expect(order).toEqual(['ours', 'peer', 'peer', 'ours', 'ours', 'peer']);
  });

  it('passes --quick on to every side and says so in the report', async () => {
    const asked: boolean[] = [];
    const { run } = sides(2, [1, 1]);
    const r = await report(['--rounds', '2', '--quick'], (s, quick) => {
      asked.push(quick);
      return run(s);
    });
    expect(asked).toEqual([true, true, true, true]);
    expect(r.quick).toBe(true);
    expect((await report(['--rounds', '1'], sides(2, [1]).run)).quick).toBe(false);
  });

  it('reports a ratio below 1 when ours is the slower side', async () => {
    const { run } = sides(0.25, [8]);
    const r = await report(['--rounds', '1'], run);
    expect(r.ratioVsPeer).toBeCloseTo(0.25, 2);
  });

  it('refuses bad arguments with E_USAGE before measuring anything', async () => {
    const { run, order } = sides(1, []);
    for (const argv of [
      ['--rounds', '0'],
      ['--rounds', '1.5'],
      ['--rounds', 'many'],
      ['--side', 'theirs'],
      ['--frames', '10'],
    ]) {
      await expect(
        benchWake(argv, () => undefined, run),
        argv.join(' '),
      ).rejects.toMatchObject({
        code: 'E_USAGE',
      });
    }
    expect(order).toEqual([]);
  });
});
