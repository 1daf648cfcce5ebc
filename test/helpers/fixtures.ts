import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../firmware-ts/src/paths.js';

export const WAKE_FIXTURES = join(PACKAGE_ROOT, 'test', 'fixtures', 'generated', 'wake');

export const PRETRAINED_PHRASES = ['hey_jarvis', 'alexa', 'hey_mycroft', 'hey_rhasspy'] as const;

export function wavsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.wav'))
    .sort()
    .map((f) => join(dir, f));
}
