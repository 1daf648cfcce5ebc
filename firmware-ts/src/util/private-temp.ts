/**
 * A private temp folder per process, `<prefix>-<pid>-XXXXXX` (mkdtemp: 0700, a name nobody can
 * guess or plant beforehand), removed when the process exits. A process killed with SIGKILL cannot
 * remove its own, so the pid in the name lets a later process of the same user remove what the dead
 * one left (an utterance's audio, say).
 */
import { rmSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Log } from '../log.js';

const live = new Set<string>();
let hooked = false;

function removeLiveAtExit(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
  live.clear();
}

/** Whether a process `pid` runs, as any user. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the `<prefix>-<pid>-XXXXXX` folders in `root` that this user owns and whose process is no
 * longer running. Another user's folders are theirs to remove; a symlink is never followed.
 */
export async function removeStaleTempDirs(root: string, prefix: string, log: Log): Promise<void> {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  let names: string[];
  try {
    names = await fs.readdir(root);
  } catch {
    return;
  }
  const pattern = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)-[^/]{6}$`);
  for (const name of names) {
    const pid = Number(pattern.exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    const dir = join(root, name);
    const st = await fs.lstat(dir).catch(() => undefined);
    if (st === undefined || !st.isDirectory() || st.uid !== uid) continue;
    await fs.rm(dir, { recursive: true, force: true });
    log.debug({ dir }, 'removed a temp folder its process left');
  }
}

/** Makes this process's private folder in `root` (stale ones removed first), removed at exit. */
export async function makeProcessTempDir(root: string, prefix: string, log: Log): Promise<string> {
  await fs.mkdir(root, { recursive: true });
  await removeStaleTempDirs(root, prefix, log);
  const dir = await fs.mkdtemp(join(root, `${prefix}-${process.pid}-`));
  live.add(dir);
  if (!hooked) {
    hooked = true;
    process.on('exit', removeLiveAtExit);
  }
  return dir;
}

/** Removes a folder made by makeProcessTempDir now rather than at exit. */
export async function removeProcessTempDir(dir: string): Promise<void> {
  live.delete(dir);
  await fs.rm(dir, { recursive: true, force: true });
}
