/**
 * An answer cut short is reported where it was cut: before the wake phrase (barge-in) or the "stop"
 * that cut it, with the audio time it stopped at, never after what came next. Through the real
 * runner, machine and Voice (test/helpers/scripted-loop.ts).
 */
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../firmware-ts/src/voice-loop/runner.js';
import { command, runScript, wake } from '../../helpers/scripted-loop.js';

const isHelp = (e: RunEvent): e is Extract<RunEvent, { type: 'say' }> =>
  e.type === 'say' && e.text.startsWith('I can tell you');

describe('an answer cut short', () => {
  it('by the wake phrase is reported before the barge-in, with when it was cut', async () => {
    // The help answer starts about 2.1 s and lasts several seconds; the phrase comes at 4 s.
    const { events } = await runScript([wake(1000), command(1500, 'what can you do', 'help'), wake(4000)], {
      durationMs: 8000,
    });
    const help = events.findIndex(isHelp);
    const bargeIn = events.findIndex((e) => e.type === 'wake' && e.atMs >= 4000);
    expect(help).toBeGreaterThanOrEqual(0);
    expect(bargeIn).toBeGreaterThanOrEqual(0);
    expect(help).toBeLessThan(bargeIn);
    const say = events[help] as Extract<RunEvent, { type: 'say' }>;
    expect(say.completed).toBe(false);
    expect(say.cutOffAtMs).toBeGreaterThanOrEqual(4000);
    expect(say.cutOffAtMs).toBeLessThan(4080);
    // Reported once, and every event after the cut is at the cut or later.
    expect(events.filter(isHelp)).toHaveLength(1);
    const times = events.slice(help + 1).map((e) => e.atMs);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(say.cutOffAtMs ?? Infinity);
  });

  it('by "stop" is reported before the intent that stopped it', async () => {
    const { events } = await runScript(
      [wake(1000), command(1500, 'what can you do', 'help'), command(3000, 'stop', 'stop')],
      { durationMs: 8000 },
    );
    const help = events.findIndex(isHelp);
    const stop = events.findIndex((e) => e.type === 'intent' && e.name === 'stop');
    expect(stop).toBeGreaterThanOrEqual(0);
    expect(help).toBeLessThan(stop);
    expect(events[help]).toMatchObject({ completed: false });
  });

  it('a completed answer carries no cut-off time', async () => {
    const { events } = await runScript([wake(1000), command(1500, 'louder', 'louder')], { durationMs: 8000 });
    const say = events.find((e) => e.type === 'say');
    expect(say).toMatchObject({ completed: true });
    expect(say).not.toHaveProperty('cutOffAtMs');
  });
});
