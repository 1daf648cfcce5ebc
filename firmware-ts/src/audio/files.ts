/**
 * The WAV files under a folder, as `glasses wake DIR` and `glasses eval wake --pos DIR` read them: one
 * walk for both, so a folder means the same clips to each.
 */
import { promises as fs } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { GlassesError, messageOf } from '../errors.js';

/** Extensions read as clips; anything else beside them (a manifest.tsv, notes, index.json) is not audio. */
export const AUDIO_EXTENSIONS: readonly string[] = ['.wav', '.wave'];

export interface AudioFolder {
  /** Clips, sorted. */
  files: string[];
  /** Files that are not audio by their extension, sorted; hidden files and folders are not listed. */
  skipped: string[];
}

export function isAudioFile(file: string): boolean {
  return AUDIO_EXTENSIONS.includes(extname(file).toLowerCase());
}

/** Every WAV under `dir` (sub-folders too), and the other files beside them. */
export async function listAudioFolder(dir: string): Promise<AudioFolder> {
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch (err) {
    throw new GlassesError('E_AUDIO_FILE_MISSING', `folder ${dir}: cannot read it (${messageOf(err)})`, {
      details: { file: dir },
      cause: err,
    });
  }
  if (!stat.isDirectory()) {
    throw new GlassesError('E_AUDIO_FILE_MISSING', `${dir} is not a folder: give a folder of WAV files`, {
      details: { file: dir },
    });
  }
  let entries;
  try {
    entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  } catch (err) {
    throw new GlassesError('E_AUDIO_FILE_MISSING', `folder ${dir}: cannot read it (${messageOf(err)})`, {
      details: { file: dir },
      cause: err,
    });
  }
  const all = entries
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => join(e.parentPath, e.name))
    .filter(
      (f) =>
        !relative(dir, f)
          .split(sep)
          .some((part) => part.startsWith('.')),
    )
    .sort();
  const files = all.filter(isAudioFile);
  const skipped = all.filter((f) => !isAudioFile(f));
  if (files.length === 0) {
    throw new GlassesError(
      'E_AUDIO_FILE_MISSING',
      `folder ${dir} holds no WAV files${skipped.length === 0 ? '' : ` (${skipped.length} other files, not audio)`}`,
      { details: { file: dir } },
    );
  }
  return { files, skipped };
}
