/**
 * Manifests beside a folder of clips: a TSV with a header row whose `file` column names a clip
 * relative to the TSV, and whose other columns describe it (voice, noise, room, ...). `glasses eval
 * wake --by COLUMN` groups its figures by one of them.
 */
import { promises as fs } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { messageOf } from '../errors.js';
import type { Log } from '../log.js';

export const MANIFEST_EXTENSION = '.tsv';

/** Columns by clip (absolute path); a clip named twice keeps its first row. */
export type ClipColumns = Map<string, Readonly<Record<string, string>>>;

/** The rows of a manifest TSV, by the absolute path of the clip each names. */
export function parseClipManifest(text: string, tsvFile: string): ClipColumns {
  const out: ClipColumns = new Map();
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const header = (lines[0] ?? '').split('\t').map((h) => h.trim());
  const fileAt = header.indexOf('file');
  // A TSV without a `file` column describes something else; it is no manifest of clips.
  if (fileAt < 0) return out;
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    const cells = line.split('\t');
    const file = cells[fileAt]?.trim() ?? '';
    if (file === '') continue;
    const clip = resolve(dirname(tsvFile), file);
    if (out.has(clip)) continue;
    const row: Record<string, string> = {};
    header.forEach((name, i) => {
      if (i !== fileAt && name !== '') row[name] = cells[i]?.trim() ?? '';
    });
    out.set(clip, row);
  }
  return out;
}

/** Every manifest among `files` (the non-audio files beside the clips), merged; the first row of a clip wins. */
export async function readClipManifests(files: readonly string[], log: Log): Promise<ClipColumns> {
  const out: ClipColumns = new Map();
  for (const file of files.filter((f) => extname(f).toLowerCase() === MANIFEST_EXTENSION)) {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      log.warn({ file }, `manifest ${file} cannot be read (${messageOf(err)}); its clips are not grouped`);
      continue;
    }
    for (const [clip, row] of parseClipManifest(text, file)) if (!out.has(clip)) out.set(clip, row);
  }
  return out;
}
