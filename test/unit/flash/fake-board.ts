/** A scripted Board for the orchestration tests: records calls, answers as each test sets it up. */
import { Readable } from 'node:stream';
import type {
  ActivationEvent,
  ActivationPlan,
  ActivationResult,
  Board,
  BoardInfo,
  ReceiveEvent,
  Slot,
} from '../../../firmware-ts/src/flash/board.js';
import type { LocalBundle } from '../../../firmware-ts/src/flash/bundle-file.js';
import type { FlashBoardOptions } from '../../../firmware-ts/src/flash/flash-board.js';

export const KEY = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAtest\n-----END PUBLIC KEY-----\n';

export function bundle(version = '2.0.0'): LocalBundle {
  return {
    file: `/tmp/glasses-${version}-linux-arm64.tar.gz`,
    bytes: 1000,
    sha256: 'f'.repeat(64),
    version,
    arch: 'arm64',
    topName: `glasses-${version}-linux-arm64`,
    unpackedBytes: 3000,
    manifestBytes: Buffer.from('{}\n'),
    signature: null,
    open: () => Readable.from([Buffer.alloc(1000)]),
  };
}

export function boardInfo(over: Partial<BoardInfo> = {}): BoardInfo {
  return {
    arch: 'arm64',
    nodeVersion: 'v20.20.2',
    rootWritable: true,
    freeBytes: 1e9,
    current: 'a',
    currentExists: true,
    slots: { a: { version: '1.0.0' }, b: null },
    trustedKeyPem: KEY,
    health: null,
    ...over,
  };
}

type ActivateFn = (
  plan: ActivationPlan,
  onEvent: (e: ActivationEvent) => void,
  signal: AbortSignal,
) => Promise<ActivationResult>;

export class FakeBoard implements Board {
  readonly calls: string[] = [];
  plan: ActivationPlan | undefined;
  info: BoardInfo = boardInfo();
  receiveImpl: (slot: Slot, onEvent: (e: ReceiveEvent) => void, signal: AbortSignal) => Promise<void> =
    async (_slot, onEvent) => {
      onEvent({ type: 'upload', sentBytes: 500 });
      onEvent({ type: 'upload', sentBytes: 1000 });
      onEvent({ type: 'step', step: 'verifying' });
      onEvent({ type: 'step', step: 'installing' });
      await Promise.resolve();
    };
  activateImpl: ActivateFn = async (plan, onEvent) => {
    onEvent({ seq: 0, t: 'step', step: 'switching' });
    onEvent({ seq: 1, t: 'step', step: 'restarting' });
    onEvent({ seq: 2, t: 'step', step: 'waiting' });
    await Promise.resolve();
    return { result: 'ok', slot: plan.slot, version: plan.version };
  };
  followImpl: (fromSeq: number, onEvent: (e: ActivationEvent) => void) => Promise<ActivationResult> = () =>
    Promise.reject(new Error('follow was not expected'));

  constructor(readonly label = 'fake-board') {}

  async inspect(): Promise<BoardInfo> {
    this.calls.push('inspect');
    await Promise.resolve();
    return this.info;
  }

  async provisionKey(pem: string): Promise<void> {
    this.calls.push('provisionKey');
    await Promise.resolve();
    this.info = { ...this.info, trustedKeyPem: pem };
  }

  receive(
    slot: Slot,
    _bundle: LocalBundle,
    onEvent: (e: ReceiveEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    this.calls.push(`receive ${slot}`);
    return this.receiveImpl(slot, onEvent, signal);
  }

  activate(
    plan: ActivationPlan,
    onEvent: (e: ActivationEvent) => void,
    signal: AbortSignal,
  ): Promise<ActivationResult> {
    this.calls.push(`activate ${plan.slot}`);
    this.plan = plan;
    return this.activateImpl(plan, onEvent, signal);
  }

  follow(id: string, fromSeq: number, onEvent: (e: ActivationEvent) => void): Promise<ActivationResult> {
    this.calls.push(`follow ${id} ${fromSeq}`);
    return this.followImpl(fromSeq, onEvent);
  }

  async cancel(id: string): Promise<void> {
    this.calls.push(`cancel ${id}`);
    await Promise.resolve();
  }
}

/** Options with a simulated clock: `sleep` advances `now` and returns at once. */
export function fakeOptions(
  over: Partial<FlashBoardOptions> = {},
): FlashBoardOptions & { clock: { t: number } } {
  const clock = { t: 0 };
  return {
    clock,
    healthTimeoutMs: 90_000,
    reconnectForMs: 10_000,
    reconnectDelayMs: 2000,
    now: () => clock.t,
    sleep: async (ms) => {
      clock.t += ms;
      await Promise.resolve();
    },
    newId: () => 'id-1',
    ...over,
  };
}

/** Resolves when `signal` aborts, then rejects like an interrupted transport. */
export function untilAborted(signal: AbortSignal, error: Error): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(error);
    signal.addEventListener('abort', () => {
      reject(error);
    });
  });
}
