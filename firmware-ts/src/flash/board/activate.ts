/**
 * Runs ON THE BOARD: the switch to a freshly installed slot and its watch, detached from the ssh
 * session so that a dropped connection or a closed laptop cannot leave the board on a build nobody
 * is watching.
 *
 *   node activate.mjs run <dir>              reads <dir>/request.json; switches `current`, restarts,
 *                                            waits for the new build's health, rolls back on failure
 *   node activate.mjs follow <dir> [<from>]  prints <dir>/log from line <from> until its result line
 *
 * Every step is a JSON line appended to <dir>/log (`seq` counts them); the last one has t:"result".
 * A file <dir>/cancel asks a watch in progress to give up and roll back (Ctrl-C on the flashing
 * machine). It imports only node: built-ins and nothing relative, because only its text travels.
 */
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

type Slot = 'a' | 'b';

interface Request {
  root: string;
  slot: Slot;
  previousSlot: Slot | null;
  version: string;
  previousVersion: string | null;
  healthFile: string;
  timeoutMs: number;
  restartCmd: string;
  /**
   * Asked while waiting for health: exit 0 while the runtime runs, 3 (as LSB `status` does) once it
   * has exited; any other exit tells nothing. Lets a build that dies at start fail at once.
   */
  statusCmd?: string;
  /** Prints the runtime's last log lines (the journal, the service's output), quoted in the result. */
  logCmd?: string;
  restartTimeoutMs: number;
  pollMs: number;
}

interface Report {
  version: string;
  startedAtMs: number;
  atMs: number;
  ok: boolean;
  problems: string[];
}

type Outcome = 'ok' | 'rolled-back' | 'failed' | 'refused' | 'not-started';

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

function readLog(dir: string): string[] {
  try {
    return readFileSync(join(dir, 'log'), 'utf8').split('\n');
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseReport(text: string): Report | null {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof j !== 'object' || j === null) return null;
  const r = j as Record<string, unknown>;
  if (
    typeof r.version !== 'string' ||
    typeof r.startedAtMs !== 'number' ||
    typeof r.atMs !== 'number' ||
    typeof r.ok !== 'boolean'
  )
    return null;
  const problems = Array.isArray(r.problems) ? r.problems.filter((p) => typeof p === 'string') : [];
  return { version: r.version, startedAtMs: r.startedAtMs, atMs: r.atMs, ok: r.ok, problems };
}

/** How often the status command is asked, at most: it may be a systemctl round trip. */
const STATUS_EVERY_MS = 500;
const STATUS_TIMEOUT_MS = 10_000;
const LOG_LINES = 20;
const LOG_LINE_CHARS = 300;

class Watch {
  private seq = 0;
  private statusUseless = false;

  constructor(
    private readonly dir: string,
    private readonly req: Request,
  ) {}

  emit(event: Record<string, unknown>): void {
    // atMs (board clock) makes the log readable afterwards: how long the restart and the wait took.
    appendFileSync(
      join(this.dir, 'log'),
      `${JSON.stringify({ seq: this.seq++, atMs: Date.now(), ...event })}\n`,
    );
  }

  /** `current` -> slots/<slot>, replaced in one rename(2): a reader sees the old link or the new. */
  switchTo(slot: Slot): void {
    const { root } = this.req;
    const tmp = join(root, `.current-${process.pid}`);
    rmSync(tmp, { force: true });
    // Relative, so the root can be mounted or copied elsewhere.
    symlinkSync(`slots/${slot}`, tmp);
    renameSync(tmp, join(root, 'current'));
    // The switch must survive a power cut: flush the directory entry.
    const fd = openSync(root, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  removeHealth(): void {
    try {
      rmSync(this.req.healthFile, { force: true });
    } catch (err) {
      // Not fatal: the version and start-time checks still tell an old report from a fresh one.
      this.emit({ t: 'note', text: `cannot remove ${this.req.healthFile}: ${(err as Error).message}` });
    }
  }

  /** Runs the restart command; undefined when it succeeded, else why not. */
  restart(): string | undefined {
    const logFile = join(this.dir, 'restart.log');
    // A file, not a pipe: a service script that leaves a child holding the pipe would block us.
    const fd = openSync(logFile, 'a');
    let r;
    try {
      r = spawnSync('/bin/sh', ['-c', this.req.restartCmd], {
        stdio: ['ignore', fd, fd],
        timeout: this.req.restartTimeoutMs,
        // The login environment as it is: a restart command that starts the runtime itself (a script,
        // runit, OpenRC) hands it on, and the runtime refuses any GLASSES_* variable it does not know.
        // Anything the command needs, the root included, goes in the command.
      });
    } finally {
      closeSync(fd);
    }
    if (r.error === undefined && r.status === 0) return undefined;
    const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ');
    const how =
      r.error !== undefined
        ? r.error.message
        : r.status === null
          ? `killed by ${r.signal ?? 'a signal'}`
          : `exit ${r.status}`;
    return `restart command \`${this.req.restartCmd}\` failed (${how})${tail === '' ? '' : `: ${tail}`}`;
  }

  /** Why the runtime is known to have exited, or undefined while it runs (or nobody can tell). */
  exited(): string | undefined {
    const cmd = this.req.statusCmd;
    if (cmd === undefined || cmd === '' || this.statusUseless) return undefined;
    const r = spawnSync('/bin/sh', ['-c', cmd], {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      timeout: STATUS_TIMEOUT_MS,
    });
    if (r.status === 0) return undefined;
    const said = r.stdout.trim().split('\n').slice(-2).join(' | ');
    if (r.status === 3) return said === '' ? 'the runtime exited' : `the runtime exited (${said})`;
    // A status command that cannot tell (not installed, no permission) must not fail a good build.
    this.statusUseless = true;
    const err = r.stderr.trim().split('\n').slice(-2).join(' | ');
    this.emit({
      t: 'note',
      text: `status command \`${cmd}\` gave ${r.error?.message ?? `exit ${String(r.status)}`}${err === '' ? '' : `: ${err}`}; not asked again`,
    });
    return undefined;
  }

  /** The runtime's last log lines from the log command, or undefined without one. */
  logTail(): string[] | undefined {
    const cmd = this.req.logCmd;
    if (cmd === undefined || cmd === '') return undefined;
    const r = spawnSync('/bin/sh', ['-c', cmd], {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      timeout: STATUS_TIMEOUT_MS,
      maxBuffer: 4 << 20,
    });
    const text = r.stdout.trim() || r.stderr.trim();
    if (text === '')
      return [
        `(log command \`${cmd}\` printed nothing${r.status === 0 ? '' : `, exit ${String(r.status)}`})`,
      ];
    return text
      .split('\n')
      .slice(-LOG_LINES)
      .map((l) => (l.length > LOG_LINE_CHARS ? `${l.slice(0, LOG_LINE_CHARS)}…` : l));
  }

  /**
   * Polls the health file until `accept` takes a report, the runtime is seen to have exited, or the
   * deadline passes. Returns the reason it failed, or undefined when healthy.
   */
  async waitHealthy(
    accept: (r: Report) => string | undefined,
    cancellable: boolean,
    startedAtMs: number,
  ): Promise<{ why?: string; last: Report | null; cancelled?: boolean }> {
    const deadline = Date.now() + this.req.timeoutMs;
    let last: Report | null = null;
    let lastText = '';
    let why = `no health report at ${this.req.healthFile}`;
    let statusAtMs = 0;
    for (;;) {
      let text: string;
      try {
        text = readFileSync(this.req.healthFile, 'utf8');
      } catch {
        text = '';
      }
      if (text !== '' && text !== lastText) {
        lastText = text;
        const report = parseReport(text);
        if (report === null) why = `${this.req.healthFile} is not a health report`;
        else {
          last = report;
          this.emit({ t: 'health', report });
          const refusal = accept(report);
          if (refusal === undefined) return { last };
          why = refusal;
        }
      }
      if (cancellable && existsSync(join(this.dir, 'cancel')))
        return { why: 'cancelled from the flashing machine', last, cancelled: true };
      // Not the report's pid: a runtime in another pid namespace (a container) would look dead.
      if (Date.now() - statusAtMs >= STATUS_EVERY_MS) {
        statusAtMs = Date.now();
        const gone = this.exited();
        if (gone !== undefined)
          return {
            why: `${gone} ${Math.round((Date.now() - startedAtMs) / 100) / 10} s after the restart`,
            last,
          };
      }
      if (Date.now() >= deadline)
        return { why: `${why} within ${Math.round(this.req.timeoutMs / 100) / 10} s`, last };
      await sleep(this.req.pollMs);
    }
  }

  result(result: Outcome, slot: Slot | null, version: string | null, reason?: string, log?: string[]): void {
    this.emit({
      t: 'result',
      result,
      slot,
      version,
      ...(reason === undefined ? {} : { reason }),
      ...(log === undefined ? {} : { log }),
    });
  }

  async run(): Promise<void> {
    const req = this.req;
    const manifest = (() => {
      try {
        return JSON.parse(readFileSync(join(req.root, 'slots', req.slot, 'MANIFEST.json'), 'utf8')) as {
          version?: unknown;
        };
      } catch {
        return null;
      }
    })();
    // Another flash may have replaced the slot since it was verified.
    if (manifest?.version !== req.version) {
      this.result(
        'refused',
        req.previousSlot,
        req.previousVersion,
        `slot ${req.slot} no longer holds version ${req.version}`,
      );
      return;
    }

    if (existsSync(join(this.dir, 'cancel'))) {
      this.result('not-started', req.previousSlot, req.previousVersion, 'cancelled before the switch');
      return;
    }
    this.emit({ t: 'step', step: 'switching', slot: req.slot });
    this.removeHealth();
    this.switchTo(req.slot);
    this.emit({ t: 'step', step: 'restarting' });
    const restartedAtMs = Date.now();
    let why = this.restart();
    // The new build's own words on why it failed, taken before a rollback restarts over them.
    let log: string[] | undefined;
    let cancelled = false;
    if (why === undefined) {
      this.emit({ t: 'step', step: 'waiting', timeoutMs: req.timeoutMs });
      // A report counts only from a process started after the restart: an old runtime that did not
      // stop, or a reflash of the same version, must not pass for the new one.
      const forward = await this.waitHealthy(
        (r) => {
          if (r.version !== req.version)
            return `the runtime reports version ${r.version}, not ${req.version}`;
          if (r.startedAtMs < restartedAtMs) return 'the report is from a process started before the restart';
          if (!r.ok)
            return `the runtime is not healthy${r.problems.length > 0 ? ` (${r.problems.join('; ')})` : ''}`;
          return undefined;
        },
        true,
        restartedAtMs,
      );
      if (forward.why === undefined) {
        this.result('ok', req.slot, req.version);
        return;
      }
      why = forward.why;
      cancelled = forward.cancelled === true;
    }
    if (!cancelled) log = this.logTail();

    if (req.previousSlot === null || !existsSync(join(req.root, 'slots', req.previousSlot))) {
      this.result(
        'failed',
        req.slot,
        req.version,
        `${why}; there is no previous slot to roll back to, so the board stays on slot ${req.slot}`,
        log,
      );
      return;
    }
    this.emit({ t: 'step', step: 'rolling-back', slot: req.previousSlot, reason: why });
    this.removeHealth();
    this.switchTo(req.previousSlot);
    const rolledBackAtMs = Date.now();
    const restartWhy = this.restart();
    if (restartWhy !== undefined) this.emit({ t: 'note', text: restartWhy });
    this.emit({ t: 'step', step: 'waiting-previous', timeoutMs: req.timeoutMs });
    // The previous build may be running still (if the restart never took); any fresh report of it
    // that says ok means the board is back where it was.
    const back = await this.waitHealthy(
      (r) => {
        if (req.previousVersion !== null && r.version !== req.previousVersion)
          return `the runtime reports version ${r.version}, not ${req.previousVersion}`;
        if (r.atMs < rolledBackAtMs) return 'the report is older than the rollback';
        if (!r.ok)
          return `the runtime is not healthy${r.problems.length > 0 ? ` (${r.problems.join('; ')})` : ''}`;
        return undefined;
      },
      false,
      rolledBackAtMs,
    );
    if (back.why === undefined) this.result('rolled-back', req.previousSlot, req.previousVersion, why, log);
    else
      this.result(
        'failed',
        req.previousSlot,
        req.previousVersion,
        `${why}; rolled back to slot ${req.previousSlot}, but it is not healthy either: ${back.why}`,
        log,
      );
  }
}

async function run(dir: string): Promise<number> {
  writeFileSync(join(dir, 'pid'), String(process.pid));
  const req = JSON.parse(readFileSync(join(dir, 'request.json'), 'utf8')) as Request;
  const watch = new Watch(dir, req);
  try {
    await watch.run();
  } catch (err) {
    watch.result('failed', null, null, `the board-side watch failed: ${(err as Error).message}`);
    return 1;
  }
  return 0;
}

function isResult(line: string): boolean {
  try {
    return (JSON.parse(line) as { t?: unknown }).t === 'result';
  } catch {
    return false;
  }
}

/** Prints the log from line `from` on, until the result line; says so if the watch died without one. */
async function follow(dir: string, from: number): Promise<number> {
  let printed = from;
  const startedAt = Date.now();
  for (;;) {
    const lines = readLog(dir);
    // The last element is '' or a line still being written.
    const complete = lines.slice(0, -1);
    for (; printed < complete.length; printed++) {
      const line = complete[printed] ?? '';
      process.stdout.write(`${line}\n`);
      if (isResult(line)) return 0;
    }
    let pid: number;
    try {
      pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    } catch {
      pid = NaN;
    }
    const gone = Number.isNaN(pid) ? Date.now() - startedAt > 5000 : !alive(pid);
    if (gone && readLog(dir).length - 1 === complete.length) {
      const started = complete.length > 0;
      process.stdout.write(
        `${JSON.stringify({
          seq: complete.length,
          t: 'result',
          result: started ? 'failed' : 'not-started',
          slot: null,
          version: null,
          reason: started
            ? `the board-side watch stopped without a result (see ${join(dir, 'stderr')})`
            : 'the board-side watch never started',
        })}\n`,
      );
      return 0;
    }
    await sleep(100);
  }
}

const [mode, dir, fromText] = process.argv.slice(2);
if (dir === undefined || (mode !== 'run' && mode !== 'follow')) {
  process.stderr.write('usage: activate.mjs run <dir> | follow <dir> [<from-line>]\n');
  process.exitCode = 2;
} else if (mode === 'run') {
  process.exitCode = await run(dir);
} else {
  // A closed ssh session shows up as EPIPE on stdout; the watch goes on without its audience.
  process.stdout.on('error', () => process.exit(0));
  process.exitCode = await follow(dir, Number(fromText ?? '0'));
}
