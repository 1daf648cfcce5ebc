import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../firmware-ts/src/hal/clock.js';
import { isGlassesError } from '../../../firmware-ts/src/errors.js';

describe('SimulatedClock', () => {
  it('wakes sleepers in order as time advances', async () => {
    const clock = new SimulatedClock();
    const woke: string[] = [];
    void clock.sleep(300).then(() => woke.push(`b@${clock.now()}`));
    void clock.sleep(100).then(() => woke.push(`a@${clock.now()}`));
    await clock.advance(99);
    expect(woke).toEqual([]);
    await clock.advance(250);
    expect(woke).toEqual(['a@100', 'b@300']);
    expect(clock.now()).toBe(349);
  });

  it('rejects a sleep with E_ABORTED when its signal aborts', async () => {
    const clock = new SimulatedClock();
    const controller = new AbortController();
    const p = clock.sleep(1000, controller.signal);
    controller.abort();
    await expect(p).rejects.toSatisfy((e) => isGlassesError(e, 'E_ABORTED'));
    expect(clock.pendingSleepers).toBe(0);
  });
});
