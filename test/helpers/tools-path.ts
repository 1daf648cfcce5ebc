/**
 * PATHs for tests that take a program the runtime runs away: a folder of links to every tool
 * doctor.ts lists (found on this machine's PATH) but the ones named.
 */
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { TOOLS } from '../../firmware-ts/src/board/doctor.js';

/** Where `name` is on this machine's PATH. */
export function onPath(name: string): string {
  const found = (process.env.PATH ?? '')
    .split(delimiter)
    .map((d) => join(d, name))
    .find((f) => existsSync(f));
  if (found === undefined) throw new Error(`${name} is not installed here (scripts/setup.sh installs it)`);
  return found;
}

/** A new folder `bin` holding every program the runtime runs but `without` (binary names): a PATH. */
export function pathWithout(bin: string, ...without: string[]): string {
  mkdirSync(bin);
  for (const t of TOOLS.filter((x) => !without.includes(x.binary))) {
    symlinkSync(onPath(t.binary), join(bin, t.binary));
  }
  return bin;
}
