/**
 * What a person sees of a flash: one stderr line per board and step while it works (uploads every
 * 10%), then a summary table, or one JSON line per board with --json.
 */
import type { BoardFlashResult, FlashProgress } from './flash-board.js';

/** A progress sink that prints a line whenever a board's step (or upload tenth) changes. */
export function progressPrinter(write: (line: string) => void): (p: FlashProgress) => void {
  const last = new Map<string, string>();
  return (p) => {
    if (p.step === 'done') return;
    const pct =
      p.pct === undefined ? '' : ` ${p.step === 'uploading' ? Math.floor(p.pct / 10) * 10 : p.pct}%`;
    const key = `${p.step}${pct}${p.detail ?? ''}`;
    if (last.get(p.board) === key) return;
    last.set(p.board, key);
    write(`flash ${p.board}: ${p.step}${pct}${p.detail === undefined ? '' : ` (${p.detail})`}`);
  };
}

const COLUMNS = ['board', 'version', 'slot', 'result', 'seconds'] as const;

/** The summary: a fixed-width table, then the reason for every board that did not end ok. */
export function summaryTable(results: readonly BoardFlashResult[]): string {
  const rows = results.map((r) => [
    r.board,
    r.version ?? '?',
    r.slot ?? '?',
    r.outcome,
    r.seconds.toFixed(1),
  ]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ');
  const out = [line(COLUMNS), ...rows.map(line)];
  const problems = results.filter((r) => r.error !== undefined);
  if (problems.length > 0) out.push('');
  for (const r of problems) {
    out.push(`${r.board}: ${r.error?.code ?? ''}: ${r.error?.message ?? ''}`);
    if (r.log !== undefined)
      out.push(`  its log on the board, last ${r.log.length} lines:`, ...r.log.map((l) => `  | ${l}`));
  }
  return out.join('\n');
}

/** One JSON object per board, for --json. */
export function resultJson(r: BoardFlashResult): string {
  return JSON.stringify({
    board: r.board,
    result: r.outcome,
    version: r.version,
    slot: r.slot,
    previousVersion: r.previousVersion,
    previousSlot: r.previousSlot,
    targetSlot: r.targetSlot,
    seconds: Math.round(r.seconds * 10) / 10,
    ...(r.error === undefined ? {} : { error: r.error }),
    ...(r.log === undefined ? {} : { log: r.log }),
  });
}
