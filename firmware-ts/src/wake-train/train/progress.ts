/**
 * Progress of a long run on stderr: the stage, how far it is, and an estimate of the time left,
 * at most one line a second (and always the stage's first and last line).
 */

export interface ProgressSink {
  /** A stage starts. */
  stage(name: string, detail?: string): void;
  /** `done` of `total` (in `unit`) of the current stage. */
  update(done: number, total: number, unit?: string, detail?: string): void;
  /** The current stage is over. */
  done(detail?: string): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class StderrProgress implements ProgressSink {
  private name = '';
  private startedMs = 0;
  private lastMs = -Infinity;
  private readonly runStartedMs: number;

  constructor(
    private readonly write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
    private readonly now: () => number = () => performance.now(),
    private readonly intervalMs = 1000,
  ) {
    this.runStartedMs = now();
  }

  stage(name: string, detail?: string): void {
    this.name = name;
    this.startedMs = this.now();
    this.lastMs = -Infinity;
    this.write(`train-wake: ${name}${detail === undefined ? '' : `: ${detail}`}`);
  }

  update(done: number, total: number, unit = '', detail?: string): void {
    const t = this.now();
    if (t - this.lastMs < this.intervalMs && done < total) return;
    this.lastMs = t;
    const elapsed = (t - this.startedMs) / 1000;
    const share = total > 0 ? Math.min(1, done / total) : 1;
    const eta = share > 0 ? (elapsed / share) * (1 - share) : Number.NaN;
    const count = unit === '' ? '' : ` (${fmt(done)}/${fmt(total)} ${unit})`;
    this.write(
      `train-wake: ${this.name} ${(share * 100).toFixed(0)}%${count}, ${formatDuration(elapsed)} elapsed, ETA ${formatDuration(eta)}${detail === undefined ? '' : `, ${detail}`}`,
    );
  }

  done(detail?: string): void {
    const t = this.now();
    this.write(
      `train-wake: ${this.name} done in ${formatDuration((t - this.startedMs) / 1000)} (${formatDuration((t - this.runStartedMs) / 1000)} so far)${detail === undefined ? '' : `: ${detail}`}`,
    );
  }
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(0);
}
