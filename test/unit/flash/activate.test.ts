/**
 * The board-side switch-and-watch (flash/board/activate.ts), run here with node on a temp root: the
 * same text a flash sends to a board. The "service" is a small script that writes the health report
 * the way the runtime would, from whatever `current` points at.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { activateScript } from '../../../firmware-ts/src/flash/scripts.js';

/**
 * Stands in for `systemctl restart glasses`: reads the version from current/MANIFEST.json and writes
 * a report as a freshly started runtime would; current/FAIL makes it unhealthy, current/NO_START
 * makes the restart itself fail, current/OLD_CODE makes it report version 1.0.0 (the old code still
 * running), and STALE makes it write a report of an old process instead.
 */
const SERVICE = `import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const root = process.argv[2];
const cur = join(root, 'current');
if (existsSync(join(cur, 'NO_START'))) { console.error('unit glasses.service failed'); process.exit(5); }
const manifest = JSON.parse(readFileSync(join(cur, 'MANIFEST.json'), 'utf8'));
const version = existsSync(join(cur, 'OLD_CODE')) ? '1.0.0' : manifest.version;
const fail = existsSync(join(cur, 'FAIL'));
const startedAtMs = existsSync(join(root, 'STALE')) ? 1 : Date.now();
writeFileSync(join(root, 'health.json'), JSON.stringify({ version, pid: process.pid, startedAtMs,
  atMs: Date.now(), modelsLoaded: true, micOpen: !fail, loopRunning: true, ok: !fail,
  problems: fail ? ['mic: test failure'] : [] }));
`;

interface Event {
  seq: number;
  t: string;
  step?: string;
  result?: string;
  slot?: string | null;
  version?: string | null;
  reason?: string;
}

let script = '';
let base = '';

beforeAll(async () => {
  script = await activateScript();
  base = mkdtempSync(join(tmpdir(), 'glasses-activate-'));
  await fs.writeFile(join(base, 'service.mjs'), SERVICE);
});

afterAll(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

let n = 0;
async function board(
  slots: Record<string, { version: string; marks?: string[] }>,
  current?: string,
): Promise<string> {
  const root = join(base, `root${n++}`);
  for (const [slot, { version, marks }] of Object.entries(slots)) {
    await fs.mkdir(join(root, 'slots', slot), { recursive: true });
    await fs.writeFile(join(root, 'slots', slot, 'MANIFEST.json'), JSON.stringify({ version }));
    for (const m of marks ?? []) await fs.writeFile(join(root, 'slots', slot, m), '');
  }
  if (current !== undefined) await fs.symlink(`slots/${current}`, join(root, 'current'));
  return root;
}

function node(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => (stdout += d));
    p.on('error', reject);
    p.on('close', (code) => {
      resolve({ code, stdout });
    });
    p.stdin.end(stdin);
  });
}

async function watch(
  root: string,
  request: {
    slot: string;
    previousSlot: string | null;
    version: string;
    previousVersion: string | null;
    timeoutMs?: number;
    statusCmd?: string;
    logCmd?: string;
  },
  during?: (dir: string) => Promise<void>,
): Promise<{ events: Event[]; result: Event; ms: number }> {
  const dir = join(root, '.flash', 'activations', 'x');
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(join(dir, 'activate.mjs'), script);
  await fs.writeFile(
    join(dir, 'request.json'),
    JSON.stringify({
      root,
      healthFile: join(root, 'health.json'),
      restartCmd: `${process.execPath} ${join(base, 'service.mjs')} ${root}`,
      restartTimeoutMs: 10_000,
      pollMs: 25,
      timeoutMs: 500,
      ...request,
    }),
  );
  const started = performance.now();
  const running = node([join(dir, 'activate.mjs'), 'run', dir]);
  await during?.(dir);
  const { code } = await running;
  if (code !== 0) throw new Error(`the watch exited with ${String(code)}`);
  const events = (await fs.readFile(join(dir, 'log'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Event);
  const result = events.at(-1)!;
  if (result.t !== 'result') throw new Error(`the log does not end in a result: ${JSON.stringify(result)}`);
  if (events.some((e, i) => e.seq !== i)) throw new Error('the log skips or repeats a seq');
  return { events, result, ms: performance.now() - started };
}

const current = async (root: string): Promise<string> => fs.readlink(join(root, 'current'));
const health = async (root: string): Promise<{ version: string; ok: boolean }> =>
  JSON.parse(await fs.readFile(join(root, 'health.json'), 'utf8')) as { version: string; ok: boolean };

// Independent roots and no shared state: the cases run side by side (most of their time is waiting).
describe.concurrent('board-side switch and watch', () => {
  it('switches, restarts and keeps a build that reports healthy', async ({ expect }) => {
    const root = await board({ a: { version: '1.0.0' }, b: { version: '2.0.0' } }, 'a');
    const { events, result } = await watch(root, {
      slot: 'b',
      previousSlot: 'a',
      version: '2.0.0',
      previousVersion: '1.0.0',
    });
    expect(result).toMatchObject({ result: 'ok', slot: 'b', version: '2.0.0' });
    expect(events.filter((e) => e.t === 'step').map((e) => e.step)).toEqual([
      'switching',
      'restarting',
      'waiting',
    ]);
    expect(await current(root)).toBe('slots/b');
    expect(await health(root)).toMatchObject({ version: '2.0.0', ok: true });
    // The temp link of the atomic switch does not linger.
    expect((await fs.readdir(root)).filter((f) => f.startsWith('.current-'))).toEqual([]);
  });

  it('rolls back to the previous slot when the new build stays unhealthy', async ({ expect }) => {
    const root = await board({ a: { version: '1.0.0' }, b: { version: '2.0.0', marks: ['FAIL'] } }, 'a');
    const { events, result } = await watch(root, {
      slot: 'b',
      previousSlot: 'a',
      version: '2.0.0',
      previousVersion: '1.0.0',
    });
    expect(result).toMatchObject({ result: 'rolled-back', slot: 'a', version: '1.0.0' });
    expect(result.reason).toMatch(/not healthy \(mic: test failure\) within 0.5 s/);
    expect(events.filter((e) => e.t === 'step').map((e) => e.step)).toEqual([
      'switching',
      'restarting',
      'waiting',
      'rolling-back',
      'waiting-previous',
    ]);
    expect(await current(root)).toBe('slots/a');
    expect(await health(root)).toMatchObject({ version: '1.0.0', ok: true });
  });

  it('does not take a report from a process older than the restart for the new build', async ({ expect }) => {
    const root = await board({ a: { version: '1.0.0' }, b: { version: '2.0.0' } }, 'a');
    await fs.writeFile(join(root, 'STALE'), '');
    const { result } = await watch(root, {
      slot: 'b',
      previousSlot: 'a',
      version: '2.0.0',
      previousVersion: '1.0.0',
    });
    expect(result.result).not.toBe('ok');
    expect(result.reason).toMatch(/started before the restart/);
  });

  it('does not take a healthy report of another version for the new build', async ({ expect }) => {
    const root = await board({ a: { version: '1.0.0' }, b: { version: '2.0.0', marks: ['OLD_CODE'] } }, 'a');
    const { result } = await watch(root, {
      slot: 'b',
      previousSlot: 'a',
      version: '2.0.0',
      previousVersion: '1.0.0',
    });
    expect(result).toMatchObject({ result: 'rolled-back', slot: 'a' });
    expect(result.reason).toMatch(/the runtime reports version 1\.0\.0, not 2\.0\.0/);
  });

  it('rolls back when the restart command itself fails, quoting it', async ({ expect }) => {
    const root = await board({ a: { version: '1.0.0' }, b: { version: '2.0.0', marks: ['NO_START'] } }, 'a');
    const { result, events } = await watch(root, {
      slot: 'b',
      previousSlot: 'a',
      version: '2.0.0',
      previousVersion: '1.0.0',
    });
    expect(result).toMatchObject({ result: 'rolled-back', slot: 'a', version: '1.0.0' });
    expect(result.reason).toMatch(/restart command .* failed \(exit 5\): unit glasses.service failed/);
    expect(events.map((e) => e.step)).not.toContain('waiting');
    expect(await current(root)).toBe('slots/a');
  });

  it('waits on when the status command cannot tell, and notes it once', async ({ expect }) => {
    const root = await board({ a: { version: '1.0.0' }, b: { version: '2.0.0', marks: ['FAIL'] } }, 'a');
    const { events, result } = await watch(root, {
      slot: 'b',
      previousSlot: 'a',
      version: '2.0.0',
      previousVersion: '1.0.0',
      statusCmd: 'echo "System has not been booted with systemd" >&2; exit 1',
    });
    expect(result).toMatchObject({ result: 'rolled-back', slot: 'a' });
    expect(result.reason).toMatch(/not healthy \(mic: test failure\) within 0.5 s/);
    const notes = events.filter((e) => e.t === 'note');
    expect(notes).toHaveLength(1);
    expect(JSON.stringify(notes[0])).toMatch(
      /exit 1: System has not been booted with systemd; not asked again/,
    );
  });

  it("stops waiting when the status command says exited (3), with the log command's last lines", async ({
    expect,
  }) => {
    const root = await board({ a: { version: '1.0.0' }, b: { version: '2.0.0', marks: ['FAIL'] } }, 'a');
    const { result, ms } = await watch(root, {
      slot: 'b',
      previousSlot: 'a',
      version: '2.0.0',
      previousVersion: '1.0.0',
      timeoutMs: 30_000,
      // Exited while the new build is current; running again once rolled back.
      statusCmd: `case "$(readlink ${root}/current)" in slots/b) echo "unit failed"; exit 3 ;; esac`,
      logCmd: 'seq 1 30 | sed "s/^/line /"',
    });
    expect(result).toMatchObject({ result: 'rolled-back', slot: 'a' });
    expect(result.reason).toMatch(/^the runtime exited \(unit failed\) [\d.]+ s after the restart$/);
    expect((result as { log?: string[] }).log).toEqual(
      Array.from({ length: 20 }, (_, i) => `line ${i + 11}`),
    );
    expect(ms).toBeLessThan(10_000);
  });

  it('stays on the new slot and says so when there is nothing to roll back to', async ({ expect }) => {
    const root = await board({ a: { version: '1.0.0', marks: ['FAIL'] } });
    const { result } = await watch(root, {
      slot: 'a',
      previousSlot: null,
      version: '1.0.0',
      previousVersion: null,
    });
    expect(result).toMatchObject({ result: 'failed', slot: 'a', version: '1.0.0' });
    expect(result.reason).toMatch(/no previous slot to roll back to/);
    expect(await current(root)).toBe('slots/a');
  });

  it('reports failed when the previous build is not healthy either', async ({ expect }) => {
    const root = await board(
      { a: { version: '1.0.0', marks: ['FAIL'] }, b: { version: '2.0.0', marks: ['FAIL'] } },
      'a',
    );
    const { result } = await watch(root, {
      slot: 'b',
      previousSlot: 'a',
      version: '2.0.0',
      previousVersion: '1.0.0',
    });
    expect(result).toMatchObject({ result: 'failed', slot: 'a' });
    expect(result.reason).toMatch(/rolled back to slot a, but it is not healthy either/);
  });

  it('refuses to switch to a slot that no longer holds the version it was given', async ({ expect }) => {
    const root = await board({ a: { version: '1.0.0' }, b: { version: '2.0.0' } }, 'a');
    const { result, events } = await watch(root, {
      slot: 'b',
      previousSlot: 'a',
      version: '3.0.0',
      previousVersion: '1.0.0',
    });
    expect(result).toMatchObject({ result: 'refused', slot: 'a' });
    expect(events).toHaveLength(1);
    expect(await current(root)).toBe('slots/a');
  });

  it('gives up and rolls back at once when the flashing machine cancels', async ({ expect }) => {
    const root = await board({ a: { version: '1.0.0' }, b: { version: '2.0.0', marks: ['FAIL'] } }, 'a');
    const { result, ms } = await watch(
      root,
      { slot: 'b', previousSlot: 'a', version: '2.0.0', previousVersion: '1.0.0', timeoutMs: 30_000 },
      async (dir) => {
        while (
          !existsSync(join(dir, 'log')) ||
          !(await fs.readFile(join(dir, 'log'), 'utf8')).includes('"waiting"')
        )
          await sleep(20);
        await fs.writeFile(join(dir, 'cancel'), '');
      },
    );
    expect(result).toMatchObject({ result: 'rolled-back', slot: 'a' });
    expect(result.reason).toMatch(/cancelled/);
    expect(ms).toBeLessThan(15_000);
  });

  it('does not switch at all when the cancel came before the watch started', async ({ expect }) => {
    const root = await board({ a: { version: '1.0.0' }, b: { version: '2.0.0' } }, 'a');
    const dir = join(root, '.flash', 'activations', 'x');
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(join(dir, 'cancel'), '');
    const { result, events } = await watch(root, {
      slot: 'b',
      previousSlot: 'a',
      version: '2.0.0',
      previousVersion: '1.0.0',
    });
    expect(result).toMatchObject({ result: 'not-started', slot: 'a', reason: 'cancelled before the switch' });
    expect(events).toHaveLength(1);
    expect(await current(root)).toBe('slots/a');
    expect(existsSync(join(root, 'health.json'))).toBe(false);
  });

  it('follows a log from a given line to its result, and reports a watch that died without one', async ({
    expect,
  }) => {
    const root = await board({ a: { version: '1.0.0' }, b: { version: '2.0.0' } }, 'a');
    const { events } = await watch(root, {
      slot: 'b',
      previousSlot: 'a',
      version: '2.0.0',
      previousVersion: '1.0.0',
    });
    const dir = join(root, '.flash', 'activations', 'x');
    // As a reconnecting flash runs it: the script on stdin, not the copy on the board.
    const followed = await node(['--input-type=module', '-', 'follow', dir, '2'], script);
    expect(followed.code).toBe(0);
    const lines = followed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Event);
    expect(lines.map((e) => e.seq)).toEqual(events.slice(2).map((e) => e.seq));
    expect(lines.at(-1)?.result).toBe('ok');

    const dead = join(root, '.flash', 'activations', 'dead');
    await fs.mkdir(dead, { recursive: true });
    await fs.writeFile(join(dead, 'log'), `${JSON.stringify({ seq: 0, t: 'step', step: 'switching' })}\n`);
    // A pid that cannot be alive: beyond pid_max.
    await fs.writeFile(join(dead, 'pid'), '99999999');
    const orphan = await node(['--input-type=module', '-', 'follow', dead, '0'], script);
    const last = JSON.parse(orphan.stdout.trim().split('\n').at(-1)!) as Event;
    expect(last).toMatchObject({ seq: 1, t: 'result', result: 'failed' });
    expect(last.reason).toMatch(/stopped without a result/);
  });
});
