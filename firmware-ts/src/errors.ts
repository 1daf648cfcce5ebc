/**
 * Every coded error of the runtime, in one place. Each code is documented in docs/errors.md
 * (a test checks it). Messages name the file, field or device at fault.
 */

export const ERROR_CODES = {
  E_USAGE: {
    retryable: false,
    summary: 'The command line is wrong: unknown subcommand, flag or missing argument.',
  },
  E_CONFIG_FILE: { retryable: false, summary: 'The config file cannot be read or is not valid JSON.' },
  E_CONFIG_INVALID: {
    retryable: false,
    summary: 'A config value (file or GLASSES_* variable) is unknown or of the wrong type or range.',
  },
  E_MODEL_MANIFEST: {
    retryable: false,
    summary: 'models/manifest.json is missing, unreadable or malformed.',
  },
  E_MODEL_UNKNOWN: {
    retryable: false,
    summary: 'A model or wake phrase is not listed in the models manifest.',
  },
  E_MODEL_MISSING: { retryable: false, summary: 'A model file listed in the manifest is not on disk.' },
  E_MODEL_CHECKSUM: {
    retryable: false,
    summary:
      'A model file does not match the sha256 (or size) in the manifest: corrupt, truncated or replaced.',
  },
  E_MODEL_LOAD: { retryable: false, summary: 'The inference engine refused a model file.' },
  E_MODEL_SHAPE: {
    retryable: false,
    summary: "A model's inputs or outputs differ from what the manifest says.",
  },
  E_AUDIO_FILE_MISSING: { retryable: false, summary: 'An audio file does not exist or cannot be read.' },
  E_AUDIO_FILE_INVALID: {
    retryable: false,
    summary: 'An audio file is empty, truncated, not a WAV, or in an encoding the runtime does not read.',
  },
  E_AUDIO_FORMAT: {
    retryable: false,
    summary: 'An audio chunk has a sample rate or channel count a stage cannot take.',
  },
  E_MIC_OPEN: {
    retryable: true,
    summary: 'The capture device cannot be opened (missing, busy, or arecord absent).',
  },
  E_MIC_FAILED: { retryable: true, summary: 'The capture device stopped delivering audio.' },
  E_SPEAKER_OPEN: {
    retryable: true,
    summary: 'The playback device cannot be opened (missing, busy, or aplay absent).',
  },
  E_SPEAKER_FAILED: { retryable: true, summary: 'Playback failed part-way.' },
  E_TTS_FAILED: { retryable: true, summary: 'Speech synthesis (espeak-ng) could not start or failed.' },
  E_RECOGNIZER_START: {
    retryable: false,
    summary:
      "pocketsphinx cannot start: the decoder, its model folder or a grammar word's pronunciation is missing.",
  },
  E_RECOGNIZER_FAILED: {
    retryable: true,
    summary:
      'The pocketsphinx decoder exited with an error or was killed while recognising, or (tried at start) did not recognise the bundled command.',
  },
  E_IMAGE_MISSING: { retryable: false, summary: 'An image file does not exist or cannot be read.' },
  E_IMAGE_INVALID: {
    retryable: false,
    summary: 'An image is empty, truncated, corrupt, too small or too large to look at.',
  },
  E_OUTPUT_FILE: {
    retryable: false,
    summary: 'An output file (a --draw picture) cannot be written: its folder is missing or not writable.',
  },
  E_CAMERA_OPEN: {
    retryable: true,
    summary: 'The camera (V4L2 device, image folder or video) cannot be opened, or ffmpeg is absent.',
  },
  E_CAMERA_FAILED: { retryable: true, summary: 'The camera did not deliver a frame in time.' },
  E_VISION_BACKEND: {
    retryable: false,
    summary: 'The TF.js backend (wasm or tfjs-node) cannot start or load a vision model.',
  },
  E_CLOUD_INSECURE: {
    retryable: false,
    summary: 'A cloud URL is plain http (or TLS checks are off) on a host that is not loopback.',
  },
  E_TOKEN_FILE: {
    retryable: false,
    summary: 'The device token file is missing, empty, or readable by group or others.',
  },
  E_CLOUD_UNREACHABLE: {
    retryable: true,
    summary: 'The cloud cannot be reached: no network, DNS, refused or reset connection.',
  },
  E_CLOUD_TIMEOUT: {
    retryable: true,
    summary: 'The cloud did not answer (first token, whole answer or request) within its deadline.',
  },
  E_CLOUD_AUTH: { retryable: false, summary: 'The cloud refused the device token (401 or 403).' },
  E_CLOUD_HTTP: {
    retryable: true,
    summary: 'The cloud answered with an error status (5xx and 429 are retried; other 4xx are not).',
  },
  E_CLOUD_PROTOCOL: {
    retryable: true,
    summary: 'The cloud sent something malformed: a bad event in the stream or a body off the API schema.',
  },
  E_ORDER_LIMIT: {
    retryable: false,
    summary: 'An order is above the per-order or per-day amount set in config; it is not placed.',
  },
  E_OUTBOX: {
    retryable: false,
    summary: 'The order outbox cannot be written or holds a file that cannot be read.',
  },
  E_DEV_CLOUD_ABSENT: {
    retryable: false,
    summary:
      'A run needs the development cloud (the demo, a file run or --dev-cloud with an empty cloud URL, `glasses dev-cloud`), and this installation has none: bundles leave it out.',
  },
  E_BUNDLE_KEY: {
    retryable: false,
    summary:
      'The bundle signing key cannot be read or created, is open to group or others, is not ed25519, or its public half does not match.',
  },
  E_BUNDLE_BUILD: {
    retryable: false,
    summary:
      'A bundle cannot be built: not a source checkout after `npm ci`, TypeScript does not compile, the staging `npm ci` failed, or a native file for the target is missing or one for another CPU is present.',
  },
  E_BUNDLE_INVALID: {
    retryable: false,
    summary:
      'A folder to sign or pack holds a symlink or special file, or a file changed size while it was packed.',
  },
  E_FLASH_SSH: {
    retryable: true,
    summary:
      'ssh cannot reach or log in to a board (BatchMode: keys or agent only), or the connection dropped.',
  },
  E_FLASH_BUNDLE: {
    retryable: false,
    summary: 'The bundle file to flash cannot be read or is not a glasses bundle (no MANIFEST.json inside).',
  },
  E_FLASH_BOARD: {
    retryable: false,
    summary:
      'A board cannot take the bundle: no node, another architecture, its root not writable, or another flash running.',
  },
  E_FLASH_KEY: {
    retryable: false,
    summary:
      'A board has no trusted bundle key (flash once with --provision-key) or trusts a different key than the one given.',
  },
  E_FLASH_UPLOAD: {
    retryable: true,
    summary:
      'The bundle arrived on a board truncated or altered (size or sha256 differs from the file sent).',
  },
  E_FLASH_VERIFY: {
    retryable: false,
    summary:
      'A board refused the bundle: bad signature, a file off its manifest checksum, or not the version expected.',
  },
  E_FLASH_HEALTH: {
    retryable: false,
    summary:
      'The flashed build did not report healthy within --health-timeout-s; the board rolled back to its previous slot.',
  },
  E_FLASH_ROLLBACK: {
    retryable: false,
    summary:
      'A failed flash could not be rolled back (no previous slot, or the previous build is not healthy either): the board needs a look.',
  },
  E_FLASH_PROVISION: {
    retryable: false,
    summary:
      'A board could not be provisioned (--provision): no root or sudo there, no useradd, systemctl or visudo refused, or an option holds characters a unit, script or sudoers line cannot take.',
  },
  E_FLASH_ABORTED: {
    retryable: true,
    summary: 'A flash was interrupted (Ctrl-C) before the switch; the board stays on its previous slot.',
  },
  E_WAKE_DATA: {
    retryable: false,
    summary:
      'Wake training data cannot be generated: espeak-ng or sox is missing or failed, the data folder cannot be written, or its index.json is malformed.',
  },
  E_WAKE_TRAIN: {
    retryable: false,
    summary:
      'A wake head cannot be trained: a split of the data has no positive or no negative clips, or training diverged.',
  },
  E_WAKE_EXPORT: {
    retryable: false,
    summary:
      'An exported wake head failed its check: onnxruntime refused the file, or its scores differ from the TF.js model by more than 1e-5 on a validation window.',
  },
  E_ABORTED: {
    retryable: true,
    summary: 'An operation was cancelled by its AbortSignal (barge-in, stop, shutdown).',
  },
  E_INTERNAL: {
    retryable: false,
    summary:
      'A failure with no code of its own (a defect in the runtime): the message says what failed; the turn ends and the loop goes on.',
  },
} as const satisfies Record<string, { retryable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class GlassesError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** Structured facts for logs (file, field, device); never audio, images or transcripts. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GlassesError';
    this.code = code;
    this.retryable = ERROR_CODES[code].retryable;
    this.details = Object.freeze({ ...options.details });
  }

  toJSON(): { code: ErrorCode; message: string; retryable: boolean } {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

export function isGlassesError(err: unknown, code?: ErrorCode): err is GlassesError {
  return err instanceof GlassesError && (code === undefined || err.code === code);
}

/** The message of anything thrown, for wrapping foreign errors in a GlassesError. */
/** The code of a coded error; E_INTERNAL for anything else. */
export function codeOf(err: unknown): ErrorCode {
  return isGlassesError(err) ? err.code : 'E_INTERNAL';
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
