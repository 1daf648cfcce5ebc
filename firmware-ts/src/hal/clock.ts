/** Time, injected: timeouts and deadlines use a Clock so tests advance time instead of sleeping. */
import { GlassesError } from '../errors.js';

export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Resolves after `ms`, or rejects with E_ABORTED when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function abortedError(): GlassesError {
  return new GlassesError('E_ABORTED', 'sleep aborted');
}

export class RealClock implements Clock {
  now(): number {
    return performance.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(abortedError());
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortedError());
      };
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

interface Sleeper {
  wakeAt: number;
  resolve: () => void;
}

/** A clock that moves only when told to: `advance(ms)` wakes every sleeper due by then, in order. */
export class SimulatedClock implements Clock {
  private t: number;
  private sleepers: Sleeper[] = [];

  constructor(startMs = 0) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(abortedError());
        return;
      }
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(abortedError());
      };
      const sleeper: Sleeper = {
        wakeAt: this.t + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Moves time forward, resolving sleepers in wake order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      const due = this.sleepers.filter((s) => s.wakeAt <= target).sort((a, b) => a.wakeAt - b.wakeAt)[0];
      if (due === undefined) break;
      this.sleepers = this.sleepers.filter((s) => s !== due);
      this.t = due.wakeAt;
      due.resolve();
      // Let the woken code run (and maybe sleep again) before the next one is due.
      await new Promise((r) => setImmediate(r));
    }
    this.t = target;
  }

  get pendingSleepers(): number {
    return this.sleepers.length;
  }
}
