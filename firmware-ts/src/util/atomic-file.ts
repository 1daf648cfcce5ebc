import { randomInt } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createPrivateFile, PRIVATE_FILE_MODE } from './private-file.js';

export interface WriteFileAtomicOptions {
  /**
   * The file's mode; 0600 by default, since most of what the runtime writes is the wearer's (orders,
   * answers, recordings). Files meant to be shared (models, their manifest) say 0644.
   */
  mode?: number;
}

/**
 * The temp file's name beside `file`: `.<name>.<pid>.<random digits>.tmp`. The pid lets a later
 * process tell a dead writer's leftover from a live one's (cloud/outbox.ts); the random part makes
 * the name impossible to plant beforehand.
 */
function tempName(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${randomInt(2 ** 48 - 1)}.tmp`);
}

/**
 * Writes `data` to `file` so that readers see either the old file or the whole new one. The temp
 * file is created exclusively (never through a symlink someone left at its name) with the final
 * mode from the start, and removed when any step fails.
 */
export async function writeFileAtomic(
  file: string,
  data: Buffer | string,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const mode = options.mode ?? PRIVATE_FILE_MODE;
  const tmp = tempName(file);
  const handle = await createPrivateFile(tmp);
  try {
    try {
      // Widened only while the name is still unknown to anyone, before any data is in it.
      if (mode !== PRIVATE_FILE_MODE) await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  // The rename is durable only once the directory entry is flushed.
  const dir = await fs.open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
