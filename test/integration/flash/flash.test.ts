/**
 * `glasses flash` against a real OpenSSH server on 127.0.0.1: a first flash onto an empty board, a
 * second into the other slot, bundles the board must refuse (wrong key, a byte flipped on the way,
 * a file changed after signing), and two boards at once through the command itself.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flashCommand } from '../../../firmware-ts/src/commands/flash.js';
import type { LocalBundle } from '../../../firmware-ts/src/flash/bundle-file.js';
import { flashAll } from '../../../firmware-ts/src/flash/flash-all.js';
import { summaryTable } from '../../../firmware-ts/src/flash/report.js';
import { initCommands } from '../../../firmware-ts/src/flash/init.js';
import { PROVISION_DEFAULTS } from '../../../firmware-ts/src/flash/provision.js';
import { ShellBoard } from '../../../firmware-ts/src/flash/shell-board.js';
import { SshShell } from '../../../firmware-ts/src/flash/ssh.js';
import { parseBoardTarget } from '../../../firmware-ts/src/flash/target.js';
import { userInfo } from 'node:os';
import { sshdUnavailable } from '../../helpers/sshd.js';
import {
  alive,
  boardRunning,
  currentSlot,
  flashOne,
  flipped,
  makeBundle,
  runtimePid,
  startRig,
  waitHealth,
  type FlashRig,
} from './fixtures.js';

const skip = sshdUnavailable();

describe.skipIf(skip !== undefined)(
  `flash over a real sshd${skip === undefined ? '' : ` (skipped: ${skip})`}`,
  () => {
    let rig: FlashRig;
    const bundles: Record<string, { dir: string; bundle: LocalBundle }> = {};
    const seconds: Record<string, number> = {};

    beforeAll(async () => {
      rig = await startRig(mkdtempSync(join(tmpdir(), 'glasses-flash-')));
      bundles.v1 = await makeBundle(rig.dir, rig.keys, { version: '1.0.0' });
      bundles.v2 = await makeBundle(rig.dir, rig.keys, { version: '1.1.0' });
      bundles.otherKey = await makeBundle(rig.dir, rig.keys, { version: '6.6.6', signWith: rig.keys.other });
      bundles.tampered = await makeBundle(rig.dir, rig.keys, { version: '6.6.7', tamperAfterSigning: true });
    });

    afterAll(async () => {
      await rig.stop();
      // Measured per case from flashBoard's own clock; the report quotes them.
      console.info(`flash seconds per case: ${JSON.stringify(seconds)}`);
    });

    /** A board on slot a running 1.0.0, and what to compare it with after a refused flash. */
    async function runningBoard(name: string): Promise<{ root: string; pid: number | undefined }> {
      const root = join(rig.dir, name);
      await boardRunning(root, bundles.v1!.dir, rig.keys, rig.restartCmd(root), '1.0.0');
      return { root, pid: runtimePid(root) };
    }

    async function expectUnchanged(root: string, pid: number | undefined): Promise<void> {
      expect(await currentSlot(root)).toBe('a');
      expect(existsSync(join(root, 'slots', 'b'))).toBe(false);
      expect(runtimePid(root)).toBe(pid);
      expect(alive(pid)).toBe(true);
      await waitHealth(root, '1.0.0');
      expect(await fs.readFile(join(root, 'data', 'orders.json'), 'utf8')).toBe('{"kept":true}\n');
    }

    it('refuses a board that trusts no key; `glasses flash --provision-key` fills slot a; the next goes to b', async () => {
      const root = join(rig.dir, 'fresh');
      const board = rig.board(root);

      const refused = await flashOne(board, bundles.v1!.bundle);
      expect(refused.result.outcome).toBe('refused');
      expect(refused.result.error?.code).toBe('E_FLASH_KEY');
      expect(refused.result.error?.message).toMatch(/--provision-key/);
      expect(existsSync(join(root, 'current'))).toBe(false);

      // The first flash as a person types it: `glasses flash --provision-key`, ending in the table.
      const lines: string[] = [];
      const started = performance.now();
      const code = await flashCommand.run({
        argv: [
          '--board',
          rig.server.board,
          '--bundle',
          bundles.v1!.bundle.file,
          '--board-root',
          root,
          '--provision-key',
          '--public-key',
          rig.keys.good.publicKeyFile,
          '--node',
          process.execPath,
          '--restart-cmd',
          rig.restartCmd(root),
          '--health-file',
          join(root, 'run', 'health.json'),
          '--health-timeout-s',
          '10',
          '-F',
          rig.server.configFile,
          '--log-level',
          'warn',
        ],
        out: (l) => lines.push(l),
      });
      seconds.firstFlashCli = (performance.now() - started) / 1000;
      expect(code).toBe(0);
      const [header, row, ...rest] = lines.join('\n').split('\n');
      expect(header).toMatch(/^board\s+version\s+slot\s+result\s+seconds$/);
      expect(row).toMatch(new RegExp(`^${rig.server.board}\\s+1\\.0\\.0\\s+a\\s+ok\\s+\\d+\\.\\d$`));
      expect(rest).toEqual([]);
      expect(await currentSlot(root)).toBe('a');
      expect(await fs.readFile(join(root, 'keys', 'bundle.pub.pem'), 'utf8')).toBe(
        rig.keys.good.publicKeyPem,
      );
      const h1 = await waitHealth(root, '1.0.0');
      await fs.mkdir(join(root, 'data'), { recursive: true });
      await fs.writeFile(join(root, 'data', 'orders.json'), '{"kept":true}\n');

      const second = await flashOne(board, bundles.v2!.bundle);
      seconds.goodFlash = second.result.seconds;
      expect(second.result).toMatchObject({
        outcome: 'ok',
        version: '1.1.0',
        slot: 'b',
        previousSlot: 'a',
        previousVersion: '1.0.0',
      });
      expect(await currentSlot(root)).toBe('b');
      const h2 = await waitHealth(root, '1.1.0');
      expect(h2.pid).not.toBe(h1.pid);
      expect(await fs.readFile(join(root, 'slots', 'b', 'lib', 'data.txt'), 'utf8')).toBe('version 1.1.0\n');
      // The previous build stays whole in its slot, for the next rollback.
      expect(await fs.readFile(join(root, 'slots', 'a', 'lib', 'data.txt'), 'utf8')).toBe('version 1.0.0\n');
      expect(await fs.readFile(join(root, 'data', 'orders.json'), 'utf8')).toBe('{"kept":true}\n');
      expect(existsSync(join(root, '.flash', 'incoming'))).toBe(false);
      const steps = new Set(second.progress.map((p) => p.step));
      for (const s of [
        'connecting',
        'uploading',
        'verifying',
        'installing',
        'switching',
        'waiting for health',
      ])
        expect(steps).toContain(s);
      expect(second.progress.filter((p) => p.step === 'uploading').at(-1)?.pct).toBe(100);
    });

    it('gives a runtime that the restart command starts itself only variables it accepts', async () => {
      // The rig's service script starts the runtime with the restart command's environment, as
      // runit, OpenRC or a plain script would; the runtime's config refuses unknown GLASSES_* keys.
      const { root } = await runningBoard('own-start');
      const r = await flashOne(rig.board(root), bundles.v2!.bundle);
      expect(r.result).toMatchObject({ outcome: 'ok', version: '1.1.0', slot: 'b' });
      expect(await fs.readFile(join(root, 'run', 'runtime.log'), 'utf8')).not.toMatch(/E_CONFIG_INVALID/);
      await waitHealth(root, '1.1.0');
    });

    it('provisions a fresh board (--init script) and flashes it in one go, and again with nothing changed', async () => {
      // No systemd here: the service script stands in for the unit. The service user is the one
      // running the tests (a test must not create users on this machine); system folders are temp.
      const root = join(rig.dir, 'provisioned', 'opt-glasses');
      const sys = join(rig.dir, 'provisioned', 'system');
      const serviceScript = join(sys, 'sbin', 'glasses-service');
      const healthFile = join(sys, 'run', 'glasses', 'health.json');
      const commands = initCommands('script', serviceScript);
      const board = new ShellBoard({
        shell: new SshShell(parseBoardTarget(rig.server.board), { configFile: rig.server.configFile }),
        root,
        node: process.execPath,
        healthFile,
        restartCmd: commands.restart,
        statusCmd: commands.status,
        logCmd: commands.log,
        pollMs: 50,
      });
      const provision = {
        ...PROVISION_DEFAULTS,
        init: 'script' as const,
        root,
        user: userInfo().username,
        entry: ['runtime.mjs'],
        healthFile,
        serviceScript,
        stateDir: join(sys, 'run', 'glasses-service'),
        sudoersDir: join(sys, 'sudoers.d'),
      };
      try {
        const first = await flashOne(board, bundles.v1!.bundle, {
          provision,
          provisionKeyPem: rig.keys.good.publicKeyPem,
        });
        expect(first.result).toMatchObject({ outcome: 'ok', version: '1.0.0', slot: 'a' });
        expect(first.progress.map((p) => p.step)).toContain('provisioning');
        expect((await fs.stat(join(root, 'data'))).mode & 0o777).toBe(0o700);
        expect((await fs.stat(serviceScript)).mode & 0o777).toBe(0o755);
        expect(JSON.parse(await fs.readFile(healthFile, 'utf8'))).toMatchObject({
          version: '1.0.0',
          ok: true,
        });

        await fs.writeFile(join(root, 'data', 'orders.json'), '{"kept":true}\n');
        const again = await flashOne(board, bundles.v2!.bundle, { provision });
        expect(again.result).toMatchObject({ outcome: 'ok', version: '1.1.0', slot: 'b' });
        expect(await fs.readFile(join(root, 'data', 'orders.json'), 'utf8')).toBe('{"kept":true}\n');
      } finally {
        spawnSync('sh', ['-c', `${serviceScript} stop`]);
      }
    });

    it('refuses a bundle signed with another key and leaves the board running as it was', async () => {
      const { root, pid } = await runningBoard('othersig');
      const r = await flashOne(rig.board(root), bundles.otherKey!.bundle);
      seconds.badSignature = r.result.seconds;
      expect(r.result).toMatchObject({ outcome: 'refused', version: '1.0.0', slot: 'a' });
      expect(r.result.error?.code).toBe('E_FLASH_VERIFY');
      expect(r.result.error?.message).toMatch(/signature/);
      await expectUnchanged(root, pid);
    });

    it('refuses an upload with a byte flipped on the way', async () => {
      const { root, pid } = await runningBoard('flipped');
      const r = await flashOne(rig.board(root), flipped(bundles.v2!.bundle));
      seconds.corruptUpload = r.result.seconds;
      expect(r.result.outcome).toBe('refused');
      expect(r.result.error?.code).toBe('E_FLASH_UPLOAD');
      expect(r.result.error?.message).toMatch(/sha256/);
      await expectUnchanged(root, pid);
    });

    it('refuses a bundle whose file was changed after signing, naming the file', async () => {
      const { root, pid } = await runningBoard('tampered');
      const r = await flashOne(rig.board(root), bundles.tampered!.bundle);
      seconds.tamperedFile = r.result.seconds;
      expect(r.result.outcome).toBe('refused');
      expect(r.result.error?.code).toBe('E_FLASH_VERIFY');
      expect(r.result.error?.message).toMatch(/lib\/data\.txt/);
      await expectUnchanged(root, pid);
    });

    it('flashes two boards in parallel and sums them up in a table', async () => {
      const boards = [await runningBoard('par1'), await runningBoard('par2')];
      const seen: { board: string; step: string; atMs: number }[] = [];
      const soft = new AbortController();
      const started = performance.now();
      const results = await flashAll(
        boards.map((b) => rig.board(b.root)),
        bundles.v2!.bundle,
        {
          parallel: 8,
          healthTimeoutMs: 10_000,
          reconnectForMs: 20_000,
          reconnectDelayMs: 200,
          now: () => performance.now(),
          sleep: (ms, signal) => sleep(ms, undefined, { signal }),
          newId: () => `p${Math.random().toString(36).slice(2)}`,
        },
        (p) => seen.push({ board: p.board, step: p.step, atMs: performance.now() }),
        { soft: soft.signal, hard: soft.signal },
      );
      seconds.twoBoardsParallel = (performance.now() - started) / 1000;
      expect(results.map((r) => [r.outcome, r.version, r.slot])).toEqual([
        ['ok', '1.1.0', 'b'],
        ['ok', '1.1.0', 'b'],
      ]);
      // Parallel, not one after the other: the second board started before the first was done.
      const firstDone = seen.find((e) => e.board === results[0]!.board && e.step === 'done')!.atMs;
      const secondStart = seen.find((e) => e.board === results[1]!.board && e.step === 'connecting')!.atMs;
      expect(secondStart).toBeLessThan(firstDone);
      const [header, ...rows] = summaryTable(results).split('\n');
      expect(header).toMatch(/^board\s+version\s+slot\s+result\s+seconds$/);
      expect(rows).toHaveLength(2);
      for (const [i, row] of rows.entries())
        expect(row).toMatch(new RegExp(`^${results[i]!.board}\\s+1\\.1\\.0\\s+b\\s+ok\\s+\\d+\\.\\d$`));
      for (const b of boards) {
        expect(await currentSlot(b.root)).toBe('b');
        await waitHealth(b.root, '1.1.0');
      }
    });
  },
);
