/**
 * One board's flash, as a sequence over the Board port:
 *
 *   inspect -> (provision key) -> receive into the inactive slot -> activate (switch, restart, watch)
 *
 * Until activate starts, the board is untouched but for temp files: any failure or Ctrl-C leaves it
 * on its slot, running. From then on the board-side watch owns the outcome: it keeps the new build
 * only once it reports healthy and rolls back by itself otherwise, so a dropped connection is
 * followed again (reconnecting) rather than acted on, and Ctrl-C asks the watch to roll back.
 * Two signals: `soft` (first Ctrl-C) stops what can stop safely; `hard` (second) stops waiting.
 */
import type { ActivationEvent, ActivationResult, Board, BoardInfo, Slot } from './board.js';
import type { LocalBundle } from './bundle-file.js';
import { isFlashError, type FlashErrorCode } from './errors.js';
import type { ProvisionPlan } from './provision.js';
import { GlassesError } from '../errors.js';

/**
 * ok: the new build runs healthy. refused: the board said no before anything changed (key, arch,
 * upload, signature). error: it could not be reached or worked with; unchanged. aborted: Ctrl-C
 * before the switch; unchanged. rolled-back: switched, then back on the previous build, healthy.
 * failed: switched, and no healthy build now: look at the board. unknown: contact lost after the
 * switch; the board finishes by itself.
 */
export type FlashOutcome = 'ok' | 'refused' | 'error' | 'aborted' | 'rolled-back' | 'failed' | 'unknown';

export type FlashStep =
  | 'connecting'
  | 'provisioning'
  | 'provisioning key'
  | 'uploading'
  | 'verifying'
  | 'installing'
  | 'switching'
  | 'restarting'
  | 'waiting for health'
  | 'rolling back'
  | 'waiting for previous health'
  | 'reconnecting'
  | 'cancelling'
  | 'done';

export interface FlashProgress {
  board: string;
  step: FlashStep;
  /** Uploading: 0..100. */
  pct?: number;
  detail?: string;
}

export interface BoardFlashResult {
  board: string;
  outcome: FlashOutcome;
  /** What the board runs now (as far as we know) and from which slot. */
  version: string | null;
  slot: Slot | null;
  previousVersion: string | null;
  previousSlot: Slot | null;
  /** The slot the bundle went to. */
  targetSlot: Slot | null;
  seconds: number;
  error?: { code: FlashErrorCode; message: string };
  /** The failed build's last log lines on the board, when its log command gave them. */
  log?: string[];
}

export interface FlashBoardOptions {
  healthTimeoutMs: number;
  /** --provision: user, folders, init files and sudoers put on the board before anything else. */
  provision?: ProvisionPlan;
  /** The key to install on a board that trusts none (--provision-key); undefined refuses such boards. */
  provisionKeyPem?: string;
  /** How long to keep reconnecting to a board whose connection dropped after the switch. */
  reconnectForMs: number;
  reconnectDelayMs: number;
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  newId: () => string;
}

export interface FlashSignals {
  /** First Ctrl-C: stop before the switch; after it, ask the board to roll back. */
  soft: AbortSignal;
  /** Second Ctrl-C: stop waiting for the board. */
  hard: AbortSignal;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

const samePem = (a: string, b: string): boolean => a.replace(/\s+/g, '') === b.replace(/\s+/g, '');

/**
 * `bundles`: one bundle, or one per architecture (an arm64 and an x64 build of a release): each board
 * gets the one built for its own node's `process.arch`.
 */
export async function flashBoard(
  board: Board,
  bundles: LocalBundle | readonly LocalBundle[],
  options: FlashBoardOptions,
  onProgress: (p: FlashProgress) => void,
  signals: FlashSignals,
): Promise<BoardFlashResult> {
  const startedAt = options.now();
  const progress = (step: FlashStep, extra: { pct?: number; detail?: string } = {}): void => {
    onProgress({ board: board.label, step, ...extra });
  };
  let info: BoardInfo | undefined;
  let target: Slot | null = null;
  const previous = (): { previousSlot: Slot | null; previousVersion: string | null } => {
    const slot = info?.current ?? null;
    const version = slot === null ? null : (info?.slots[slot]?.version ?? info?.health?.version ?? null);
    return { previousSlot: slot, previousVersion: version };
  };
  const finish = (
    outcome: FlashOutcome,
    now: { version: string | null; slot: Slot | null },
    error?: { code: FlashErrorCode; message: string },
  ): BoardFlashResult => {
    progress('done', { detail: outcome });
    return {
      board: board.label,
      outcome,
      ...now,
      ...previous(),
      targetSlot: target,
      seconds: (options.now() - startedAt) / 1000,
      ...(error === undefined ? {} : { error }),
    };
  };
  const unchanged = (): { version: string | null; slot: Slot | null } => {
    const p = previous();
    return { version: p.previousVersion, slot: p.previousSlot };
  };

  const offered: readonly LocalBundle[] = isOne(bundles) ? [bundles] : bundles;
  let bundle: LocalBundle;

  // Before the switch: the board keeps its slot whatever happens here.
  try {
    progress('connecting');
    if (options.provision !== undefined) {
      if (board.provision === undefined)
        throw new GlassesError('E_FLASH_PROVISION', `${board.label}: this board cannot be provisioned`);
      progress('provisioning', { detail: options.provision.init });
      await board.provision(options.provision, signals.soft);
    }
    info = await board.inspect(signals.soft);
    const arch = info.arch;
    const fits = offered.find((b) => b.arch === arch);
    if (fits === undefined)
      throw new GlassesError(
        'E_FLASH_BOARD',
        `${board.label}: the board is ${arch}, the bundle is for ${offered.map((b) => b.arch).join(' and ')}`,
      );
    bundle = fits;
    if (!info.rootWritable)
      throw new GlassesError(
        'E_FLASH_BOARD',
        `${board.label}: the board root is not writable by the ssh user`,
      );
    if (info.currentExists && info.current === null)
      throw new GlassesError(
        'E_FLASH_BOARD',
        `${board.label}: current under the board root is not a link to slots/a or slots/b; move it away first`,
      );
    // The upload and the unpacked copy sit side by side for a moment, next to both slots.
    const needBytes = bundle.bytes + bundle.unpackedBytes;
    if (info.freeBytes !== null && info.freeBytes < needBytes)
      throw new GlassesError(
        'E_FLASH_BOARD',
        `${board.label}: ${mb(info.freeBytes)} free under the board root, the flash needs ${mb(needBytes)}`,
      );
    if (info.trustedKeyPem === null) {
      if (options.provisionKeyPem === undefined)
        throw new GlassesError(
          'E_FLASH_KEY',
          `${board.label}: the board trusts no bundle key yet (keys/bundle.pub.pem under its root); ` +
            'flash it once with --provision-key to install yours',
        );
      progress('provisioning key');
      await board.provisionKey(options.provisionKeyPem, signals.soft);
    } else if (
      options.provisionKeyPem !== undefined &&
      !samePem(info.trustedKeyPem, options.provisionKeyPem)
    ) {
      throw new GlassesError(
        'E_FLASH_KEY',
        `${board.label}: the board already trusts another bundle key; a flash never replaces it ` +
          '(remove keys/bundle.pub.pem on the board by hand to change keys)',
      );
    }
    // Always the slot `current` does not name: the running build is never written to.
    target = info.current === 'a' ? 'b' : 'a';
    progress('uploading', { pct: 0, detail: `slot ${target}` });
    await board.receive(
      target,
      bundle,
      (e) => {
        if (e.type === 'upload')
          progress('uploading', { pct: Math.floor((100 * e.sentBytes) / Math.max(1, bundle.bytes)) });
        else progress(e.step);
      },
      signals.soft,
    );
    if (signals.soft.aborted) throw new GlassesError('E_FLASH_ABORTED', `${board.label}: interrupted`);
  } catch (err) {
    const e = asFlashError(err, board.label);
    if (signals.soft.aborted || e.code === 'E_FLASH_ABORTED')
      return finish('aborted', unchanged(), {
        code: 'E_FLASH_ABORTED',
        message: `${board.label}: interrupted before the switch; the board stays on its slot`,
      });
    const refused = e.code !== 'E_FLASH_SSH' && e.code !== 'E_FLASH_BUNDLE';
    return finish(refused ? 'refused' : 'error', unchanged(), { code: e.code, message: e.message });
  }

  // The switch and its watch run on the board; from here we follow them.
  const { previousSlot, previousVersion } = previous();
  const plan = {
    id: options.newId(),
    slot: target,
    previousSlot,
    version: bundle.version,
    previousVersion,
    timeoutMs: options.healthTimeoutMs,
  };
  let nextSeq = 0;
  let rollingBack = false;
  const onEvent = (e: ActivationEvent): void => {
    nextSeq = Math.max(nextSeq, e.seq + 1);
    if (e.t === 'step') {
      if (e.step === 'rolling-back') rollingBack = true;
      const step: Record<typeof e.step, FlashStep> = {
        switching: 'switching',
        restarting: 'restarting',
        waiting: 'waiting for health',
        'rolling-back': 'rolling back',
        'waiting-previous': 'waiting for previous health',
      };
      progress(step[e.step]);
    } else if (e.t === 'health') {
      const r = e.report;
      progress(rollingBack ? 'waiting for previous health' : 'waiting for health', {
        detail: `${r.version} ${r.ok ? 'ok' : `not ok${r.problems.length > 0 ? `: ${r.problems.join('; ')}` : ''}`}`,
      });
    }
  };
  const asked = { cancel: false };
  const cancel = (): void => {
    asked.cancel = true;
    progress('cancelling', { detail: 'asking the board to roll back' });
    // A failed cancel leaves the watch to its deadline, which also ends in a rollback or a healthy build.
    board.cancel(plan.id, signals.hard).catch(() => undefined);
  };
  if (aborted(signals.soft)) cancel();
  else signals.soft.addEventListener('abort', cancel, { once: true });

  const deadline = options.now() + options.reconnectForMs;
  let result: ActivationResult | undefined;
  let lastError: FlashFailure | undefined;
  try {
    for (let attempt = 0; result === undefined; attempt++) {
      try {
        result =
          attempt === 0
            ? await board.activate(plan, onEvent, signals.hard)
            : await board.follow(plan.id, nextSeq, onEvent, signals.hard);
      } catch (err) {
        const e = asFlashError(err, board.label);
        if (e.code !== 'E_FLASH_SSH' || signals.hard.aborted) throw e;
        lastError = e;
        if (options.now() >= deadline) break;
        progress('reconnecting', { detail: e.message });
        await options.sleep(options.reconnectDelayMs, signals.hard);
      }
    }
  } catch (err) {
    const e = asFlashError(err, board.label);
    if (aborted(signals.hard))
      return finish(
        'unknown',
        { version: null, slot: null },
        {
          code: 'E_FLASH_ABORTED',
          message: `${board.label}: stopped waiting; the board keeps the new build only if it reports healthy, else rolls back by itself`,
        },
      );
    // The watch never started (a lock, a full disk, Ctrl-C in time): nothing was switched.
    if (asked.cancel) return finish('aborted', unchanged(), { code: 'E_FLASH_ABORTED', message: e.message });
    return finish('error', unchanged(), { code: e.code, message: e.message });
  } finally {
    signals.soft.removeEventListener('abort', cancel);
  }
  if (result === undefined)
    return finish(
      'unknown',
      { version: null, slot: null },
      {
        code: 'E_FLASH_SSH',
        message: `${lastError?.message ?? board.label}; the board keeps the new build only if it reports healthy, else rolls back by itself`,
      },
    );

  const now = { version: result.version, slot: result.slot };
  const withLog = (r: BoardFlashResult): BoardFlashResult =>
    result.log === undefined || result.log.length === 0 ? r : { ...r, log: result.log };
  const reason = result.reason ?? 'no reason given';
  if (asked.cancel && (result.result === 'not-started' || result.result === 'refused'))
    return finish('aborted', unchanged(), {
      code: 'E_FLASH_ABORTED',
      message: `${board.label}: interrupted before the switch (${reason}); the board stays on its slot`,
    });
  switch (result.result) {
    case 'ok':
      return finish('ok', now);
    case 'rolled-back':
      return withLog(
        finish('rolled-back', now, {
          code: asked.cancel ? 'E_FLASH_ABORTED' : 'E_FLASH_HEALTH',
          message: `${board.label}: ${bundle.version} on slot ${target}: ${reason}; rolled back to slot ${result.slot ?? '?'}`,
        }),
      );
    case 'failed':
      return withLog(
        finish('failed', now, { code: 'E_FLASH_ROLLBACK', message: `${board.label}: ${reason}` }),
      );
    case 'refused':
      return finish('refused', unchanged(), { code: 'E_FLASH_VERIFY', message: `${board.label}: ${reason}` });
    case 'not-started':
      return finish('error', unchanged(), {
        code: 'E_FLASH_SSH',
        message: `${board.label}: ${lastError?.message ?? reason}; nothing was switched`,
      });
  }
}

function isOne(b: LocalBundle | readonly LocalBundle[]): b is LocalBundle {
  return !Array.isArray(b);
}

/** A fresh read: TypeScript narrows `signal.aborted` after one check, but it changes under us. */
function aborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

/** A flash error as it is: any other failure of a step is the board's. */
type FlashFailure = GlassesError & { readonly code: FlashErrorCode };

function asFlashError(err: unknown, label: string): FlashFailure {
  if (isFlashError(err)) return err;
  const error = new GlassesError(
    'E_FLASH_BOARD',
    `${label}: ${err instanceof Error ? err.message : String(err)}`,
    {
      cause: err,
    },
  );
  return error as FlashFailure;
}
