/**
 * Files only their owner reads: what the wearer said, bought and when is personal, and a name in a
 * folder someone else can write to may already be a symlink they planted.
 */
import { constants, promises as fs } from 'node:fs';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/**
 * Opens a new file for writing, 0600. Fails with EEXIST when anything is at that name already: with
 * O_EXCL a symlink is not followed, so nobody's planted link gets the data.
 */
export function createPrivateFile(file: string): Promise<fs.FileHandle> {
  return fs.open(
    file,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    PRIVATE_FILE_MODE,
  );
}

/** Writes `data` to a new private file (see createPrivateFile). */
export async function writeNewPrivateFile(file: string, data: Uint8Array | string): Promise<void> {
  const handle = await createPrivateFile(file);
  try {
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
}

/**
 * `mkdir -p dir`, the folders it makes 0700. A folder already there keeps its mode (it may be a
 * shared one: the working directory, /tmp), unless `narrow` says the folder is the caller's alone:
 * then one this user owns is narrowed to 0700 (as made by an earlier version with the default mode).
 */
export async function makePrivateDir(dir: string, options: { narrow?: boolean } = {}): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (options.narrow !== true) return;
  const st = await fs.stat(dir);
  if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) await fs.chmod(dir, PRIVATE_DIR_MODE);
}
