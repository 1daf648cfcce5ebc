/** The per-board flash sequence over a fake board: what it does, what it refuses, when it stops. */
import { describe, expect, it } from 'vitest';
import { flashAll } from '../../../firmware-ts/src/flash/flash-all.js';
import { flashBoard, type FlashProgress } from '../../../firmware-ts/src/flash/flash-board.js';
import { boardInfo, bundle, FakeBoard, fakeOptions, KEY, untilAborted } from './fake-board.js';
import { GlassesError } from '../../../firmware-ts/src/errors.js';

function signals(): {
  soft: AbortController;
  hard: AbortController;
  s: { soft: AbortSignal; hard: AbortSignal };
} {
  const soft = new AbortController();
  const hard = new AbortController();
  return { soft, hard, s: { soft: soft.signal, hard: hard.signal } };
}

async function run(
  board: FakeBoard,
  over: Parameters<typeof fakeOptions>[0] = {},
  sig = signals(),
): Promise<{ result: Awaited<ReturnType<typeof flashBoard>>; progress: FlashProgress[] }> {
  const progress: FlashProgress[] = [];
  const result = await flashBoard(board, bundle(), fakeOptions(over), (p) => progress.push(p), sig.s);
  return { result, progress };
}

describe('flashBoard', () => {
  it('uploads to the inactive slot, switches, and reports the new build', async () => {
    const board = new FakeBoard();
    const { result, progress } = await run(board);
    expect(board.calls).toEqual(['inspect', 'receive b', 'activate b']);
    expect(board.plan).toEqual({
      id: 'id-1',
      slot: 'b',
      previousSlot: 'a',
      version: '2.0.0',
      previousVersion: '1.0.0',
      timeoutMs: 90_000,
    });
    expect(result).toMatchObject({
      outcome: 'ok',
      version: '2.0.0',
      slot: 'b',
      previousSlot: 'a',
      previousVersion: '1.0.0',
      targetSlot: 'b',
    });
    expect(result.error).toBeUndefined();
    expect(progress.map((p) => p.step)).toEqual([
      'connecting',
      'uploading',
      'uploading',
      'uploading',
      'verifying',
      'installing',
      'switching',
      'restarting',
      'waiting for health',
      'done',
    ]);
    expect(progress.filter((p) => p.step === 'uploading').map((p) => p.pct)).toEqual([0, 50, 100]);
  });

  it('goes to slot a when b is running, and to a on an empty board', async () => {
    const onB = new FakeBoard();
    onB.info = boardInfo({ current: 'b', slots: { a: { version: '0.9.0' }, b: { version: '1.0.0' } } });
    expect((await run(onB)).result).toMatchObject({ outcome: 'ok', slot: 'a', previousVersion: '1.0.0' });
    expect(onB.calls).toContain('receive a');

    const empty = new FakeBoard();
    empty.info = boardInfo({ current: null, currentExists: false, slots: { a: null, b: null } });
    const r = await run(empty);
    expect(r.result).toMatchObject({ outcome: 'ok', slot: 'a', previousSlot: null, previousVersion: null });
    expect(empty.plan?.previousSlot).toBeNull();
  });

  it('refuses a board of another architecture before uploading anything', async () => {
    const board = new FakeBoard();
    board.info = boardInfo({ arch: 'x64' });
    const { result } = await run(board);
    expect(result).toMatchObject({ outcome: 'refused', version: '1.0.0', slot: 'a' });
    expect(result.error?.code).toBe('E_FLASH_BOARD');
    expect(result.error?.message).toMatch(/board is x64, the bundle is for arm64/);
    expect(board.calls).toEqual(['inspect']);
  });

  it('takes the bundle built for the board of the ones offered per architecture', async () => {
    const arm = bundle('2.0.0');
    const x64 = { ...bundle('2.0.0'), arch: 'x64' as const, file: '/tmp/glasses-2.0.0-linux-x64.tar.gz' };
    const sent: string[] = [];
    const board = new FakeBoard();
    board.info = boardInfo({ arch: 'x64' });
    const receive = board.receive.bind(board);
    board.receive = (slot, b, onEvent, signal) => {
      sent.push(b.file);
      return receive(slot, b, onEvent, signal);
    };
    const result = await flashBoard(board, [arm, x64], fakeOptions(), () => undefined, signals().s);
    expect(result).toMatchObject({ outcome: 'ok', version: '2.0.0', slot: 'b' });
    expect(sent).toEqual([x64.file]);

    const other = new FakeBoard();
    other.info = boardInfo({ arch: 'riscv64' });
    const refused = await flashBoard(other, [arm, x64], fakeOptions(), () => undefined, signals().s);
    expect(refused.outcome).toBe('refused');
    expect(refused.error?.message).toMatch(/board is riscv64, the bundle is for arm64 and x64/);
    expect(other.calls).toEqual(['inspect']);
  });

  it.each([
    [{ current: null, currentExists: true }, /current under the board root is not a link/],
    [{ freeBytes: 3999 }, /0\.0 MB free under the board root, the flash needs 0\.0 MB/],
    [{ rootWritable: false }, /not writable/],
  ] as const)('refuses a board it cannot flash safely (%j)', async (over, why) => {
    const board = new FakeBoard();
    board.info = boardInfo(over);
    const { result } = await run(board);
    expect(result.outcome).toBe('refused');
    expect(result.error?.code).toBe('E_FLASH_BOARD');
    expect(result.error?.message).toMatch(why);
    expect(board.calls).toEqual(['inspect']);
    // 4000 bytes (upload + unpacked) is enough.
    const roomy = new FakeBoard();
    roomy.info = boardInfo({ freeBytes: 4000 });
    expect((await run(roomy)).result.outcome).toBe('ok');
  });

  it('refuses a board with no trusted key unless asked to provision one, and never replaces a key', async () => {
    const bare = new FakeBoard();
    bare.info = boardInfo({ trustedKeyPem: null });
    const refused = await run(bare);
    expect(refused.result.outcome).toBe('refused');
    expect(refused.result.error?.code).toBe('E_FLASH_KEY');
    expect(refused.result.error?.message).toMatch(/--provision-key/);
    expect(bare.calls).toEqual(['inspect']);

    const provisioned = new FakeBoard();
    provisioned.info = boardInfo({ trustedKeyPem: null });
    expect((await run(provisioned, { provisionKeyPem: KEY })).result.outcome).toBe('ok');
    expect(provisioned.calls).toEqual(['inspect', 'provisionKey', 'receive b', 'activate b']);

    const other = new FakeBoard();
    other.info = boardInfo({ trustedKeyPem: KEY.replace('test', 'else') });
    const r = await run(other, { provisionKeyPem: KEY });
    expect(r.result.outcome).toBe('refused');
    expect(r.result.error?.message).toMatch(/another bundle key/);
    expect(other.calls).toEqual(['inspect']);

    // The same key, written with other line breaks, is the same key.
    const same = new FakeBoard();
    same.info = boardInfo({ trustedKeyPem: KEY.replace(/\n/g, '\r\n') });
    expect((await run(same, { provisionKeyPem: KEY })).result.outcome).toBe('ok');
  });

  it.each([
    ['E_FLASH_UPLOAD', 'refused'],
    ['E_FLASH_VERIFY', 'refused'],
    ['E_FLASH_BOARD', 'refused'],
    ['E_FLASH_SSH', 'error'],
  ] as const)('a receive failing with %s is %s and never switches', async (code, outcome) => {
    const board = new FakeBoard();
    board.receiveImpl = () => Promise.reject(new GlassesError(code, `board: ${code}`));
    const { result } = await run(board);
    expect(result).toMatchObject({ outcome, version: '1.0.0', slot: 'a', targetSlot: 'b' });
    expect(result.error).toEqual({ code, message: `board: ${code}` });
    expect(board.calls).toEqual(['inspect', 'receive b']);
  });

  it('stops before the switch on Ctrl-C during the upload', async () => {
    const board = new FakeBoard();
    const sig = signals();
    board.receiveImpl = (_slot, onEvent, signal) => {
      onEvent({ type: 'upload', sentBytes: 400 });
      sig.soft.abort();
      return untilAborted(signal, new GlassesError('E_FLASH_ABORTED', 'interrupted'));
    };
    const { result } = await run(board, {}, sig);
    expect(result).toMatchObject({ outcome: 'aborted', version: '1.0.0', slot: 'a' });
    expect(result.error?.code).toBe('E_FLASH_ABORTED');
    expect(board.calls).toEqual(['inspect', 'receive b']);
  });

  it('does not switch when Ctrl-C lands just as the upload completes', async () => {
    const board = new FakeBoard();
    const sig = signals();
    board.receiveImpl = async () => {
      await Promise.resolve();
      sig.soft.abort();
    };
    const { result } = await run(board, {}, sig);
    expect(result.outcome).toBe('aborted');
    expect(board.calls).not.toContain('activate b');
  });

  it('reports a rollback with the reason and what runs now', async () => {
    const board = new FakeBoard();
    board.activateImpl = async (plan) => {
      await Promise.resolve();
      return {
        result: 'rolled-back',
        slot: 'a',
        version: '1.0.0',
        reason: `the runtime is not healthy (mic: no device) within 90 s; plan ${plan.id}`,
      };
    };
    const { result } = await run(board);
    expect(result).toMatchObject({ outcome: 'rolled-back', version: '1.0.0', slot: 'a', targetSlot: 'b' });
    expect(result.error?.code).toBe('E_FLASH_HEALTH');
    expect(result.error?.message).toMatch(/2\.0\.0 on slot b: the runtime is not healthy \(mic: no device\)/);
    expect(result.error?.message).toMatch(/rolled back to slot a/);
  });

  it('reports a board with no healthy build as failed', async () => {
    const board = new FakeBoard();
    board.activateImpl = () =>
      Promise.resolve({ result: 'failed', slot: 'a', version: '1.0.0', reason: 'not healthy either' });
    const { result } = await run(board);
    expect(result).toMatchObject({ outcome: 'failed', slot: 'a' });
    expect(result.error?.code).toBe('E_FLASH_ROLLBACK');
  });

  it('follows the board again from the last event seen when the connection drops', async () => {
    const board = new FakeBoard();
    board.activateImpl = (_plan, onEvent) => {
      onEvent({ seq: 0, t: 'step', step: 'switching' });
      onEvent({ seq: 1, t: 'step', step: 'restarting' });
      onEvent({ seq: 2, t: 'step', step: 'waiting' });
      return Promise.reject(new GlassesError('E_FLASH_SSH', 'board: ssh failed: Connection reset'));
    };
    let follows = 0;
    board.followImpl = (fromSeq, onEvent) => {
      follows++;
      if (follows === 1)
        return Promise.reject(new GlassesError('E_FLASH_SSH', 'board: ssh failed: No route'));
      onEvent({
        seq: fromSeq,
        t: 'health',
        report: { version: '2.0.0', startedAtMs: 1, atMs: 2, ok: true, problems: [] },
      });
      return Promise.resolve({ result: 'ok', slot: 'b', version: '2.0.0' });
    };
    const options = fakeOptions();
    const progress: FlashProgress[] = [];
    const sig = signals();
    const result = await flashBoard(board, bundle(), options, (p) => progress.push(p), sig.s);
    expect(result).toMatchObject({ outcome: 'ok', slot: 'b', version: '2.0.0' });
    expect(board.calls).toEqual(['inspect', 'receive b', 'activate b', 'follow id-1 3', 'follow id-1 3']);
    expect(progress.filter((p) => p.step === 'reconnecting')).toHaveLength(2);
    expect(options.clock.t).toBe(4000);
  });

  it('gives up following after reconnectForMs, saying the board finishes by itself', async () => {
    const board = new FakeBoard();
    board.activateImpl = () =>
      Promise.reject(new GlassesError('E_FLASH_SSH', 'board: ssh failed: timed out'));
    board.followImpl = () => Promise.reject(new GlassesError('E_FLASH_SSH', 'board: ssh failed: timed out'));
    const { result } = await run(board, { reconnectForMs: 10_000, reconnectDelayMs: 2000 });
    expect(result).toMatchObject({ outcome: 'unknown', version: null, slot: null });
    expect(result.error?.code).toBe('E_FLASH_SSH');
    expect(result.error?.message).toMatch(/rolls back by itself/);
    expect(board.calls.filter((c) => c.startsWith('follow'))).toHaveLength(5);
  });

  it('reports nothing switched when the board never started the watch', async () => {
    const board = new FakeBoard();
    board.activateImpl = () => Promise.reject(new GlassesError('E_FLASH_SSH', 'board: ssh failed: refused'));
    board.followImpl = () =>
      Promise.resolve({ result: 'not-started', slot: null, version: null, reason: 'no such switch' });
    const { result } = await run(board);
    expect(result).toMatchObject({ outcome: 'error', version: '1.0.0', slot: 'a' });
    expect(result.error?.message).toMatch(/nothing was switched/);
  });

  it('a board-side refusal to start (lock) leaves the board as it was', async () => {
    const board = new FakeBoard();
    board.activateImpl = () =>
      Promise.reject(new GlassesError('E_FLASH_BOARD', 'board: another flash is running'));
    const { result } = await run(board);
    expect(result).toMatchObject({ outcome: 'error', version: '1.0.0', slot: 'a' });
    expect(result.error?.code).toBe('E_FLASH_BOARD');
    expect(board.calls).not.toContain('follow id-1 0');
  });

  it('asks the board to roll back on Ctrl-C after the switch, and waits for it', async () => {
    const board = new FakeBoard();
    const sig = signals();
    board.activateImpl = async (plan, onEvent, signal) => {
      onEvent({ seq: 0, t: 'step', step: 'waiting' });
      expect(signal).toBe(sig.hard.signal);
      sig.soft.abort();
      // The board hears the cancel and rolls back.
      await Promise.resolve();
      expect(board.calls).toContain(`cancel ${plan.id}`);
      return {
        result: 'rolled-back',
        slot: 'a',
        version: '1.0.0',
        reason: 'cancelled from the flashing machine',
      };
    };
    const { result, progress } = await run(board, {}, sig);
    expect(result).toMatchObject({ outcome: 'rolled-back', slot: 'a', version: '1.0.0' });
    expect(result.error?.code).toBe('E_FLASH_ABORTED');
    expect(progress.map((p) => p.step)).toContain('cancelling');
  });

  it('reports Ctrl-C that reached the board before the switch as aborted, board unchanged', async () => {
    for (const outcome of ['throws', 'not-started'] as const) {
      const board = new FakeBoard();
      const sig = signals();
      board.activateImpl = async () => {
        sig.soft.abort();
        await Promise.resolve();
        if (outcome === 'throws')
          throw new GlassesError(
            'E_FLASH_ABORTED',
            'fake-board: start the switch: cancelled before the switch',
          );
        return { result: 'not-started', slot: 'a', version: '1.0.0', reason: 'cancelled before the switch' };
      };
      const { result } = await run(board, {}, sig);
      expect(result).toMatchObject({ outcome: 'aborted', version: '1.0.0', slot: 'a' });
      expect(result.error?.code).toBe('E_FLASH_ABORTED');
    }
  });

  it("tells the rollback's health wait apart from the new build's", async () => {
    const board = new FakeBoard();
    const report = (version: string, ok: boolean) => ({
      version,
      startedAtMs: 1,
      atMs: 2,
      ok,
      problems: ok ? [] : ['mic'],
    });
    board.activateImpl = async (_plan, onEvent) => {
      onEvent({ seq: 0, t: 'step', step: 'waiting' });
      onEvent({ seq: 1, t: 'health', report: report('2.0.0', false) });
      onEvent({ seq: 2, t: 'step', step: 'rolling-back' });
      onEvent({ seq: 3, t: 'step', step: 'waiting-previous' });
      onEvent({ seq: 4, t: 'health', report: report('1.0.0', true) });
      await Promise.resolve();
      return { result: 'rolled-back', slot: 'a', version: '1.0.0', reason: 'unhealthy' };
    };
    const { progress } = await run(board);
    expect(progress.slice(-6).map((p) => [p.step, p.detail])).toEqual([
      ['waiting for health', undefined],
      ['waiting for health', '2.0.0 not ok: mic'],
      ['rolling back', undefined],
      ['waiting for previous health', undefined],
      ['waiting for previous health', '1.0.0 ok'],
      ['done', 'rolled-back'],
    ]);
  });

  it('stops waiting on a second Ctrl-C and says the board is left to finish alone', async () => {
    const board = new FakeBoard();
    const sig = signals();
    board.activateImpl = (_plan, onEvent, signal) => {
      onEvent({ seq: 0, t: 'step', step: 'waiting' });
      sig.soft.abort();
      sig.hard.abort();
      return untilAborted(signal, new GlassesError('E_FLASH_ABORTED', 'interrupted'));
    };
    const { result } = await run(board, {}, sig);
    expect(result).toMatchObject({ outcome: 'unknown', version: null, slot: null });
    expect(result.error?.message).toMatch(/else rolls back by itself/);
  });
});

describe('flashAll', () => {
  it('flashes boards at most `parallel` at a time and returns results in board order', async () => {
    let running = 0;
    let peak = 0;
    const boards = ['b1', 'b2', 'b3', 'b4', 'b5'].map((name, i) => {
      const b = new FakeBoard(name);
      b.receiveImpl = async () => {
        running++;
        peak = Math.max(peak, running);
        // Later boards finish first: order must come from the input, not completion.
        await new Promise((r) => setTimeout(r, 5 * (5 - i)));
        running--;
      };
      if (name === 'b3') b.info = boardInfo({ arch: 'x64' });
      return b;
    });
    const sig = signals();
    const results = await flashAll(
      boards,
      bundle(),
      { ...fakeOptions(), parallel: 2 },
      () => undefined,
      sig.s,
    );
    expect(peak).toBe(2);
    expect(results.map((r) => [r.board, r.outcome])).toEqual([
      ['b1', 'ok'],
      ['b2', 'ok'],
      ['b3', 'refused'],
      ['b4', 'ok'],
      ['b5', 'ok'],
    ]);
  });
});
