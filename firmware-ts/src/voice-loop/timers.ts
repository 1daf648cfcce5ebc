/** Named one-shot timers on an injected Clock: starting a name again replaces it. */
import type { Clock } from '../hal/clock.js';

export class Timers<Name extends string> {
  private readonly running = new Map<Name, AbortController>();

  constructor(private readonly clock: Clock) {}

  start(name: Name, ms: number, onFire: () => void): void {
    this.cancel(name);
    const controller = new AbortController();
    this.running.set(name, controller);
    this.clock.sleep(ms, controller.signal).then(
      () => {
        if (this.running.get(name) !== controller) return;
        this.running.delete(name);
        onFire();
      },
      () => undefined, // cancelled
    );
  }

  cancel(name: Name): void {
    this.running.get(name)?.abort();
    this.running.delete(name);
  }

  cancelAll(): void {
    for (const name of [...this.running.keys()]) this.cancel(name);
  }

  get active(): Name[] {
    return [...this.running.keys()];
  }
}
