import { describe, expect, it } from 'vitest';
import { checkFaults, FaultState, onBoth } from '../../../../firmware-ts/dev/dev-cloud/faults.js';

describe('FaultState', () => {
  it('fails the next N requests of its surface only, then none', () => {
    const f = new FaultState({ chat: { status5xx: 2, retryAfterS: 3 } }, () => 0);
    expect(f.takeFailure('orders')).toBeUndefined();
    expect(f.takeFailure('chat')).toEqual({ retryAfterS: 3 });
    expect(f.takeFailure('chat')).toEqual({ retryAfterS: 3 });
    expect(f.takeFailure('chat')).toBeUndefined();
  });

  it('fails a share of requests for a fraction, by the injected random draw', () => {
    const draws = [0.1, 0.5, 0.29, 0.9];
    const f = new FaultState({ orders: { status5xx: 0.3 } }, () => draws.shift() ?? 1);
    const failed = [1, 2, 3, 4].map(() => f.takeFailure('orders') !== undefined);
    expect(failed).toEqual([true, false, true, false]);
  });

  it('drops the reply to the next N new orders, or to every one for true', () => {
    const two = new FaultState({ orders: { dropResponse: 2 } }, Math.random);
    expect([two.takeDrop(), two.takeDrop(), two.takeDrop()]).toEqual([true, true, false]);
    const always = new FaultState({ orders: { dropResponse: true } }, Math.random);
    expect([always.takeDrop(), always.takeDrop()]).toEqual([true, true]);
    expect(new FaultState({}, Math.random).takeDrop()).toBe(false);
  });

  it('resets the counters when the faults are replaced', () => {
    const f = new FaultState({ chat: { status5xx: 1 } }, Math.random);
    f.takeFailure('chat');
    expect(f.takeFailure('chat')).toBeUndefined();
    f.set({ chat: { status5xx: 1 } });
    expect(f.takeFailure('chat')).toBeDefined();
    f.set({});
    expect(f.latencyMs('chat')).toBe(0);
    expect(f.unauthorized('orders')).toBe(false);
  });

  it('scopes common faults to both surfaces with onBoth', () => {
    const f = new FaultState(onBoth({ latencyMs: 50, unauthorized: true }), Math.random);
    expect([f.latencyMs('chat'), f.latencyMs('orders')]).toEqual([50, 50]);
    expect([f.unauthorized('chat'), f.unauthorized('orders')]).toEqual([true, true]);
  });
});

describe('checkFaults', () => {
  it('refuses negative, non-finite and fractional counts above one', () => {
    expect(() => {
      checkFaults({ chat: { latencyMs: -1 } });
    }).toThrow(/latencyMs: -1/);
    expect(() => {
      checkFaults({ chat: { dripMs: Number.NaN } });
    }).toThrow(/dripMs/);
    expect(() => {
      checkFaults({ orders: { status5xx: 2.5 } });
    }).toThrow(/status5xx: 2.5/);
    expect(() => {
      checkFaults({ orders: { dropResponse: -2 } });
    }).toThrow(/dropResponse/);
    expect(() => {
      checkFaults(onBoth({ status5xx: 0.5, retryAfterS: 0 }));
    }).not.toThrow();
  });
});
