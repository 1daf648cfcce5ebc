/** How audio time is written in a run's terminal output: the timeline's lines and the log lines. */

/** Audio ms as seconds. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

/** The time column of a line. */
export function stamp(ms: number): string {
  return seconds(ms).padStart(8);
}
