/**
 * The port the flash orchestration (flash-board.ts) drives a board through. shell-board.ts is the
 * real one, over a RemoteShell (ssh); unit tests use a fake. Layout on the board, under its root:
 *   slots/a, slots/b          two extracted bundles; the one `current` does not point at is inactive
 *   current -> slots/<a|b>    switched in one rename, so it always names a whole slot
 *   keys/bundle.pub.pem       the key bundles must be signed with, provisioned once
 *   data/                     the runtime's own state; a flash never touches it
 *   .flash/                   lock, incoming upload, the detached health watch and its log
 */
import type { LocalBundle } from './bundle-file.js';
import type { ProvisionPlan } from './provision.js';

export type Slot = 'a' | 'b';

/** What the runtime writes to its health file (firmware-ts/src/health.ts), as the board reads it. */
export interface HealthSnapshot {
  version: string;
  startedAtMs: number;
  atMs: number;
  ok: boolean;
  problems: string[];
}

export interface BoardInfo {
  /** `process.arch` of the board's node: arm64 or x64 for the bundles we build. */
  arch: string;
  nodeVersion: string;
  rootWritable: boolean;
  freeBytes: number | null;
  current: Slot | null;
  /** `current` exists; with `current` null, it is something a flash did not make (a folder, a link elsewhere). */
  currentExists: boolean;
  /** null: the slot folder does not exist; version null: it holds no readable manifest. */
  slots: Record<Slot, { version: string | null } | null>;
  trustedKeyPem: string | null;
  health: HealthSnapshot | null;
}

export type ReceiveEvent =
  { type: 'upload'; sentBytes: number } | { type: 'step'; step: 'verifying' | 'installing' };

export interface ActivationPlan {
  /** Names the board-side watch, so that it can be followed again after a reconnect. */
  id: string;
  slot: Slot;
  previousSlot: Slot | null;
  version: string;
  previousVersion: string | null;
  timeoutMs: number;
}

export type ActivationEvent = { seq: number } & (
  | { t: 'step'; step: 'switching' | 'restarting' | 'waiting' | 'rolling-back' | 'waiting-previous' }
  | { t: 'health'; report: HealthSnapshot }
  | { t: 'note'; text: string }
);

export interface ActivationResult {
  /**
   * ok: the new build is healthy on `slot`. rolled-back: it was not (or the flash was cancelled) and
   * the previous build is healthy again. failed: neither is healthy. refused: the slot changed under
   * us and nothing was switched. not-started: the watch never ran, nothing was switched.
   */
  result: 'ok' | 'rolled-back' | 'failed' | 'refused' | 'not-started';
  slot: Slot | null;
  version: string | null;
  reason?: string;
  /** The new build's last log lines (the board's log command), when it failed and one was given. */
  log?: string[];
}

export interface Board {
  readonly label: string;
  inspect(signal: AbortSignal): Promise<BoardInfo>;
  /**
   * Makes the board ready for its first flash (service user, folders, init files, sudoers), as root
   * there; safe to repeat. Boards that cannot be provisioned leave it out.
   */
  provision?(plan: ProvisionPlan, signal: AbortSignal): Promise<void>;
  /** Installs the public key the board will trust; refuses to replace one. */
  provisionKey(publicKeyPem: string, signal: AbortSignal): Promise<void>;
  /**
   * Streams the bundle into `slot` (never the active one): upload to a temp file, size and sha256
   * checked, extracted to a temp folder, verified against the board's key, renamed into the slot.
   */
  receive(
    slot: Slot,
    bundle: LocalBundle,
    onEvent: (e: ReceiveEvent) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /** Starts the detached switch-and-watch on the board and follows it to its result. */
  activate(
    plan: ActivationPlan,
    onEvent: (e: ActivationEvent) => void,
    signal: AbortSignal,
  ): Promise<ActivationResult>;
  /** Follows a watch started earlier, from event `fromSeq` on (after a dropped connection). */
  follow(
    id: string,
    fromSeq: number,
    onEvent: (e: ActivationEvent) => void,
    signal: AbortSignal,
  ): Promise<ActivationResult>;
  /** Asks a watch in progress to give up and roll back. */
  cancel(id: string, signal: AbortSignal): Promise<void>;
}
