/**
 * The runtime's health report: a small JSON file (config health.file) that `glasses run` rewrites
 * atomically while it runs, so a flash (or a person with `cat`) can tell that the build on the board
 * loaded its models, opened the microphone, can speak, understand and be heard (start-checks.ts),
 * and is running the loop. It holds no audio, no transcript and nothing the wearer saw.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { messageOf } from './errors.js';
import type { AudioChunk } from './audio/chunk.js';
import type { Mic } from './hal/mic.js';
import type { Log } from './log.js';
import type { StartCheck, StartPart } from './start-checks.js';
import { writeFileAtomic } from './util/atomic-file.js';

export interface HealthReport {
  readonly version: string;
  readonly pid: number;
  /** Wall-clock ms (epoch) when the process started its run, and when this report was written. */
  readonly startedAtMs: number;
  readonly atMs: number;
  readonly modelsLoaded: boolean;
  readonly micOpen: boolean;
  readonly loopRunning: boolean;
  /**
   * Tried once at start: `{ checked: false }` when not (yet) tried, else whether it worked and, if
   * not, the coded error. A failed one is also a problem.
   */
  readonly speech: StartCheck;
  readonly recognizer: StartCheck;
  readonly speaker: StartCheck;
  /** The three flags above up, no start check failed, and no problem. */
  readonly ok: boolean;
  readonly problems: readonly string[];
}

export interface HealthDeps {
  file: string;
  version: string;
  intervalMs: number;
  log: Log;
  /** Epoch ms; injected by tests. */
  now?: () => number;
}

type Part = 'modelsLoaded' | 'micOpen' | 'loopRunning';

export class Health {
  private readonly parts: Record<Part, boolean> = { modelsLoaded: false, micOpen: false, loopRunning: false };
  private readonly checks: Record<StartPart, StartCheck> = {
    speech: { checked: false },
    recognizer: { checked: false },
    speaker: { checked: false },
  };
  private readonly problems = new Set<string>();
  private readonly startedAtMs: number;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private failedOnce = false;
  /** The report's folder (e.g. /run/glasses) is made once, at the first write. */
  private folderMade = false;

  constructor(private readonly deps: HealthDeps) {
    this.startedAtMs = this.now();
  }

  /** Marks a part up or down and writes the report at once. */
  set(part: Part, up: boolean): Promise<void> {
    if (this.parts[part] === up) return this.writing;
    this.parts[part] = up;
    return this.write();
  }

  problem(text: string): Promise<void> {
    this.problems.add(text);
    return this.write();
  }

  /** Records what the start checks found; each failure becomes a problem naming its code. */
  checked(results: Partial<Record<StartPart, StartCheck>>): Promise<void> {
    for (const [part, check] of Object.entries(results) as [StartPart, StartCheck][]) {
      this.checks[part] = check;
      if (check.checked && !check.ok) this.problems.add(`${part}: ${check.code}: ${check.message}`);
    }
    return this.write();
  }

  report(): HealthReport {
    const { modelsLoaded, micOpen, loopRunning } = this.parts;
    const failed = Object.values(this.checks).some((c) => c.checked && !c.ok);
    return {
      version: this.deps.version,
      pid: process.pid,
      startedAtMs: this.startedAtMs,
      atMs: this.now(),
      modelsLoaded,
      micOpen,
      loopRunning,
      ...this.checks,
      ok: modelsLoaded && micOpen && loopRunning && !failed && this.problems.size === 0,
      problems: [...this.problems],
    };
  }

  /** Rewrites the report every `intervalMs` (its `atMs` is the heartbeat) until `stop`. */
  start(): void {
    this.timer ??= setInterval(() => void this.write(), this.deps.intervalMs);
    // The heartbeat must not keep a finished run alive.
    this.timer.unref();
  }

  /** The loop has stopped: one last report saying so. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.parts.loopRunning = false;
    await this.write();
  }

  /** The mic, reporting itself open at its first chunk. */
  watchMic(mic: Mic): Mic {
    const chunks = async function* (this: Health, signal: AbortSignal): AsyncIterable<AudioChunk> {
      let first = true;
      for await (const chunk of mic.chunks(signal)) {
        if (first) {
          first = false;
          void this.set('micOpen', true);
        }
        yield chunk;
      }
      void this.set('micOpen', false);
    }.bind(this);
    return { name: mic.name, chunks };
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** One write at a time; a failed write is logged once and never stops the runtime. */
  private write(): Promise<void> {
    this.writing = this.writing.then(async () => {
      try {
        if (!this.folderMade) {
          await mkdir(dirname(this.deps.file), { recursive: true });
          this.folderMade = true;
        }
        // Readable by all, unlike the runtime's other files: it holds nothing of the wearer's (see
        // above), and `glasses flash` reads it on the board as its ssh user, who need not be the
        // service's. Private, it would fail every flash's health check there.
        await writeFileAtomic(this.deps.file, `${JSON.stringify(this.report())}\n`, { mode: 0o644 });
      } catch (err) {
        if (!this.failedOnce) {
          this.failedOnce = true;
          this.deps.log.warn({ file: this.deps.file, err: messageOf(err) }, 'cannot write the health report');
        }
      }
    });
    return this.writing;
  }
}
