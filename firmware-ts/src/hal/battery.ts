/** The battery, read from Linux's power-supply class (the board's fuel gauge shows up there). */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Battery } from '../voice-loop/ports.js';

export class SysfsBattery implements Battery {
  /** `root`: config battery.powerSupplyDir. */
  constructor(private readonly root: string) {}

  async percent(): Promise<number | undefined> {
    let names: string[];
    try {
      names = await fs.readdir(this.root);
    } catch {
      return undefined;
    }
    for (const name of names) {
      try {
        const type = (await fs.readFile(join(this.root, name, 'type'), 'utf8')).trim();
        if (type !== 'Battery') continue;
        const capacity = Number((await fs.readFile(join(this.root, name, 'capacity'), 'utf8')).trim());
        if (Number.isFinite(capacity)) return Math.max(0, Math.min(100, capacity));
      } catch {
        // A supply without these files is not the one we want.
      }
    }
    return undefined;
  }
}
