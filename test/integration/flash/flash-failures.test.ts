/**
 * Flashes that go wrong, against a real OpenSSH server: a build that never reports healthy is rolled
 * back; an upload cut halfway (connection killed at the server, or Ctrl-C) leaves the board on its
 * slot, running; Ctrl-C during the health wait rolls back; a connection lost during the watch is
 * followed again, and a flashing machine that goes away entirely still gets a rollback.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalBundle } from '../../../firmware-ts/src/flash/bundle-file.js';
import type { FlashProgress } from '../../../firmware-ts/src/flash/flash-board.js';
import { sshdUnavailable } from '../../helpers/sshd.js';
import {
  alive,
  boardRunning,
  currentSlot,
  flashOne,
  makeBundle,
  runtimePid,
  startRig,
  throttled,
  throwingBundle,
  waitHealth,
  type FlashRig,
} from './fixtures.js';

const skip = sshdUnavailable();

describe.skipIf(skip !== undefined)(
  `flash failures over a real sshd${skip === undefined ? '' : ` (skipped: ${skip})`}`,
  () => {
    let rig: FlashRig;
    const bundles: Record<string, { dir: string; bundle: LocalBundle }> = {};
    const seconds: Record<string, number> = {};

    beforeAll(async () => {
      rig = await startRig(mkdtempSync(join(tmpdir(), 'glasses-flash-fail-')));
      bundles.v1 = await makeBundle(rig.dir, rig.keys, { version: '1.0.0' });
      bundles.v2 = await makeBundle(rig.dir, rig.keys, { version: '1.1.0' });
      bundles.sick = await makeBundle(rig.dir, rig.keys, { version: '2.0.0-sick', failHealth: true });
      // 3 MB that gzip cannot shrink, sent at ~1.6 MB/s: about two seconds to cut into.
      bundles.throws = await throwingBundle(rig.dir, rig.keys, bundles.v2.dir, '2.1.0-throws');
      bundles.big = await makeBundle(rig.dir, rig.keys, { version: '1.2.0', padBytes: 3_000_000 });
    });

    afterAll(async () => {
      await rig.stop();
      console.info(`flash seconds per case: ${JSON.stringify(seconds)}`);
    });

    async function runningBoard(name: string): Promise<{ root: string; pid: number | undefined }> {
      const root = join(rig.dir, name);
      await boardRunning(root, bundles.v1!.dir, rig.keys, rig.restartCmd(root), '1.0.0');
      return { root, pid: runtimePid(root) };
    }

    async function eventually(
      what: string,
      check: () => Promise<boolean> | boolean,
      ms = 5000,
    ): Promise<void> {
      const deadline = Date.now() + ms;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
        await sleep(50);
      }
    }

    it('rolls back a build whose health stays bad, and the previous build is healthy again', async () => {
      const { root, pid } = await runningBoard('sick');
      const started = Date.now();
      const r = await flashOne(rig.board(root), bundles.sick!.bundle, { healthTimeoutMs: 2500 });
      seconds.healthFailsRolledBack = r.result.seconds;
      expect(r.result).toMatchObject({
        outcome: 'rolled-back',
        version: '1.0.0',
        slot: 'a',
        targetSlot: 'b',
      });
      expect(r.result.error?.code).toBe('E_FLASH_HEALTH');
      expect(r.result.error?.message).toMatch(/not healthy \(mic: no capture device \(test\)\)/);
      expect(r.progress.map((p) => p.step)).toContain('rolling back');
      expect(await currentSlot(root)).toBe('a');
      const h = await waitHealth(root, '1.0.0');
      // Restarted on the old slot, not merely left running.
      expect(h.pid).not.toBe(pid);
      expect(h.startedAtMs).toBeGreaterThan(started);
    });

    it('stops waiting as soon as a build that throws at start has exited, and quotes its log', async () => {
      const { root } = await runningBoard('throws');
      const r = await flashOne(rig.board(root), bundles.throws!.bundle, { healthTimeoutMs: 20_000 });
      seconds.throwsAtStartRolledBack = r.result.seconds;
      expect(r.result).toMatchObject({ outcome: 'rolled-back', version: '1.0.0', slot: 'a' });
      expect(r.result.error?.code).toBe('E_FLASH_HEALTH');
      expect(r.result.error?.message).toMatch(
        /the runtime exited \(not running\) [\d.]+ s after the restart/,
      );
      // Not the old build's last report, and not a wait for the whole health timeout.
      expect(r.result.error?.message).not.toMatch(/reports version 1\.0\.0/);
      expect(r.result.seconds).toBeLessThan(8);
      expect(r.result.log?.join('\n')).toMatch(/Error: corrupted entry point \(test 2\.1\.0-throws\)/);
      expect(await currentSlot(root)).toBe('a');
      await waitHealth(root, '1.0.0');
    });

    it('leaves the board on its slot, running, when the connection is cut halfway through the upload', async () => {
      const { root, pid } = await runningBoard('cut');
      let dropped = 0;
      const r = await flashOne(rig.board(root), throttled(bundles.big!.bundle, 16_384, 10), {
        onProgress: (p) => {
          if (dropped === 0 && p.step === 'uploading' && (p.pct ?? 0) >= 40)
            dropped = rig.server.dropConnections();
        },
      });
      seconds.uploadCut = r.result.seconds;
      expect(dropped).toBeGreaterThan(0);
      expect(r.result).toMatchObject({ outcome: 'error', version: '1.0.0', slot: 'a' });
      expect(r.result.error?.code).toBe('E_FLASH_SSH');
      expect(r.progress.map((p) => p.step)).not.toContain('verifying');
      expect(await currentSlot(root)).toBe('a');
      expect(existsSync(join(root, 'slots', 'b'))).toBe(false);
      expect(runtimePid(root)).toBe(pid);
      expect(alive(pid)).toBe(true);
      await waitHealth(root, '1.0.0');
      // The board side notices the short upload and removes it.
      await eventually('the partial upload is removed', () => !existsSync(join(root, '.flash', 'incoming')));

      // And the board takes the next flash as if nothing happened.
      const again = await flashOne(rig.board(root), bundles.v2!.bundle);
      expect(again.result).toMatchObject({ outcome: 'ok', version: '1.1.0', slot: 'b' });
    });

    it('leaves the board untouched when Ctrl-C comes halfway through the upload', async () => {
      const { root, pid } = await runningBoard('ctrlc-upload');
      const r = await flashOne(rig.board(root), throttled(bundles.big!.bundle, 16_384, 10), {
        onProgress: (p, ctl) => {
          if (p.step === 'uploading' && (p.pct ?? 0) >= 40) ctl.soft.abort();
        },
      });
      seconds.uploadCtrlC = r.result.seconds;
      expect(r.result).toMatchObject({ outcome: 'aborted', version: '1.0.0', slot: 'a' });
      expect(r.result.error?.code).toBe('E_FLASH_ABORTED');
      expect(await currentSlot(root)).toBe('a');
      expect(existsSync(join(root, 'slots', 'b'))).toBe(false);
      expect(alive(pid)).toBe(true);
      await waitHealth(root, '1.0.0');
      await eventually('the partial upload is removed', () => !existsSync(join(root, '.flash', 'incoming')));
    });

    it('rolls back at once on Ctrl-C while waiting for health', async () => {
      const { root } = await runningBoard('ctrlc-wait');
      const r = await flashOne(rig.board(root), bundles.sick!.bundle, {
        healthTimeoutMs: 30_000,
        onProgress: (p, ctl) => {
          if (p.step === 'waiting for health') ctl.soft.abort();
        },
      });
      seconds.waitCtrlC = r.result.seconds;
      expect(r.result).toMatchObject({ outcome: 'rolled-back', version: '1.0.0', slot: 'a' });
      expect(r.result.error?.code).toBe('E_FLASH_ABORTED');
      expect(r.result.error?.message).toMatch(/cancelled/);
      // Well before the 30 s health deadline.
      expect(r.result.seconds).toBeLessThan(15);
      expect(await currentSlot(root)).toBe('a');
      await waitHealth(root, '1.0.0');
    });

    it('follows the board again after the connection drops during the health watch', async () => {
      const { root } = await runningBoard('drop-watch');
      let dropped = 0;
      const r = await flashOne(rig.board(root), bundles.sick!.bundle, {
        healthTimeoutMs: 2500,
        onProgress: (p) => {
          if (dropped === 0 && p.step === 'waiting for health') dropped = rig.server.dropConnections();
        },
      });
      seconds.watchDropReconnected = r.result.seconds;
      expect(dropped).toBeGreaterThan(0);
      expect(r.progress.map((p) => p.step)).toContain('reconnecting');
      expect(r.result).toMatchObject({ outcome: 'rolled-back', version: '1.0.0', slot: 'a' });
      expect(r.result.error?.code).toBe('E_FLASH_HEALTH');
      expect(await currentSlot(root)).toBe('a');
      await waitHealth(root, '1.0.0');
    });

    it('rolls back by itself when the flashing machine goes away during the health watch', async () => {
      const { root } = await runningBoard('gone');
      const steps: FlashProgress[] = [];
      const r = await flashOne(rig.board(root), bundles.sick!.bundle, {
        healthTimeoutMs: 2500,
        onProgress: (p, ctl) => {
          steps.push(p);
          if (p.step === 'waiting for health' && !ctl.hard.signal.aborted) {
            // Ctrl-C twice and the link gone: nobody is left to tell the board anything.
            ctl.soft.abort();
            ctl.hard.abort();
            rig.server.dropConnections();
          }
        },
      });
      expect(r.result.outcome).toBe('unknown');
      expect(await currentSlot(root)).toBe('b');
      const t0 = performance.now();
      await eventually(
        'the board switches back to slot a',
        async () => (await currentSlot(root)) === 'a',
        8000,
      );
      await waitHealth(root, '1.0.0', 8000);
      seconds.machineGoneBoardRolledBackAfter = (performance.now() - t0) / 1000;
    });
  },
);
