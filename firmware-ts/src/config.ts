/**
 * One config schema with its defaults. Loaded from an optional JSON file and GLASSES_* environment
 * variables, validated once at boot (unknown keys rejected), then frozen.
 *
 * Environment variables name a path with `__` between levels and SCREAMING_SNAKE for camelCase:
 * `GLASSES_WAKE__REFRACTORY_MS=1500` sets `wake.refractoryMs`. Values are read as JSON when they parse
 * (numbers, booleans, arrays), as plain strings otherwise. `GLASSES_CONFIG` names the config file.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { GlassesError, messageOf } from './errors.js';

const unit = z.number().min(0).max(1);

const wakeSchema = z
  .object({
    /** Wake heads loaded at once; names are models-manifest entries of kind `wake-head`. */
    phrases: z.array(z.string().min(1)).min(1).default(['hey_quark']),
    /**
     * Score a head must reach to fire: per phrase in `thresholds`, else the threshold our own heads'
     * training chose (models manifest), else `scoreThreshold`.
     */
    scoreThreshold: unit.default(0.5),
    /**
     * Per phrase, over the threshold its training chose (models manifest); for a head with a
     * verifier, the verifier's. Empty by default: the manifest's thresholds are the ones the
     * training chose on held-out voices, and the runtime uses them as they are.
     */
    thresholds: z.record(z.string(), unit).default({}),
    /** One utterance fires once: later crossings within this window are the same utterance. */
    refractoryMs: z.number().int().min(0).max(60_000).default(2000),
    vadGate: z
      .object({
        enabled: z.boolean().default(false),
        /** Silero speech probability that counts as speech. */
        threshold: unit.default(0.5),
        /** How far back speech must have been heard for a detection to stand. */
        lookbackMs: z.number().int().min(80).max(5000).default(1000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const configSchema = z
  .object({
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /**
         * `auto`: readable lines on a terminal, JSON otherwise. `journal`: one line per entry with the
         * syslog priority as a `<N>` prefix, which journald takes as the entry's priority (the unit
         * sets it, so `journalctl -p err -u glasses` filters).
         */
        format: z.enum(['auto', 'json', 'pretty', 'journal']).default('auto'),
      })
      .strict()
      .prefault({}),
    models: z
      .object({
        /** Folder holding the model files and manifest.json; relative paths are from the package root. */
        dir: z.string().min(1).default('models'),
      })
      .strict()
      .prefault({}),
    wake: wakeSchema.prefault({}),
    loop: z
      .object({
        /** After the wake phrase, how long to wait for speech before saying so. */
        noSpeechTimeoutMs: z.number().int().min(1000).max(30_000).default(6000),
        /** After an answer, how long the wearer may ask again without the wake phrase. */
        followUpMs: z.number().int().min(0).max(30_000).default(5000),
        /** Backstop for an utterance that never ends (the endpointer cuts at endpoint.maxUtteranceMs). */
        utteranceCapMs: z.number().int().min(2000).max(60_000).default(12_000),
      })
      .strict()
      .prefault({}),
    endpoint: z
      .object({
        /** Silero speech probability that counts as speech. */
        speechThreshold: unit.default(0.5),
        /** Audio kept from before speech starts, so the first syllable is not cut. */
        preRollMs: z.number().int().min(0).max(1000).default(300),
        /** Silence that ends an utterance already forming a whole command. */
        shortSilenceMs: z.number().int().min(100).max(3000).default(350),
        /** Silence that ends any other utterance. */
        longSilenceMs: z.number().int().min(200).max(5000).default(900),
        maxUtteranceMs: z.number().int().min(1000).max(30_000).default(8000),
      })
      .strict()
      .prefault({}),
    tts: z
      .object({
        /** An espeak-ng voice (`espeak-ng --voices`). */
        voice: z.string().min(1).default('en-us'),
        wordsPerMinute: z.number().int().min(80).max(450).default(165),
        pitch: z.number().int().min(0).max(99).default(50),
      })
      .strict()
      .prefault({}),
    camera: z
      .object({
        /** V4L2 device read through ffmpeg (MJPEG) on the board. */
        device: z.string().min(1).default('/dev/video0'),
        widthPx: z.number().int().min(160).max(4096).default(1280),
        heightPx: z.number().int().min(120).max(4096).default(720),
        /** A frame not delivered within this is E_CAMERA_FAILED (the wearer hears "I can't see"). */
        captureTimeoutMs: z.number().int().min(200).max(20_000).default(4000),
        /**
         * Watch mode: look every `watchIntervalMs` while the glasses are awake (0 = off). Off by default:
         * the camera is only on when a turn needs it.
         */
        watchIntervalMs: z.number().int().min(0).max(60_000).default(0),
        /** sysfs LED brightness file lit while capturing (e.g. /sys/class/leds/camera/brightness); '' logs. */
        ledPath: z.string().default(''),
      })
      .strict()
      .prefault({}),
    vision: z
      .object({
        /** COCO-80 detector: a models-manifest entry of kind `detector`. */
        detector: z.enum(['centernet', 'nanodet']).default('centernet'),
        /** `auto`: tfjs-node when installed, else wasm. The pure-JS cpu backend is never used. */
        backend: z.enum(['auto', 'wasm', 'tfjs-node']).default('auto'),
        minScore: unit.default(0.3),
        /** Per COCO label, overriding `minScore` for classes that are noisy. */
        classMinScore: z.record(z.string(), unit).default({}),
        maxDetections: z.number().int().min(1).max(100).default(20),
        iouThreshold: unit.default(0.5),
        /** onnxruntime threads for the OCR models (the wake models always use one). */
        ocrThreads: z.number().int().min(1).max(8).default(2),
        /**
         * Below this the answer says it is not sure rather than naming a guess. CenterNet's scores run
         * low: on the fixture photos every wrong label scored under 0.36, right ones 0.31-0.82.
         */
        confidentScore: unit.default(0.4),
      })
      .strict()
      .prefault({}),
    cloud: z
      .object({
        /**
         * Base URL of the OpenAI-compatible Chat Completions API (…/v1), e.g. DashScope's compatible mode,
         * OpenAI, Ollama, vLLM, llama.cpp. Empty: `glasses run` starts the development cloud on loopback.
         */
        llmBaseUrl: z.string().default(''),
        /**
         * The default takes the question's audio and a picture (Qwen-Omni; it answers only when
         * streamed, as the glasses always do). With a text-only model set audioBelowConfidence to 0.
         */
        llmModel: z.string().min(1).default('qwen3-omni-flash'),
        /** Base URL of the orders API (firmware-ts/api/orders.openapi.yaml). Empty: the development cloud. */
        ordersBaseUrl: z.string().default(''),
        /** File holding the device token (also the LLM API key); must not be readable by group or others. */
        tokenFile: z.string().default(''),
        /** From the end of the question to the first token of the answer. */
        firstTokenTimeoutMs: z.number().int().min(500).max(60_000).default(4000),
        /** The whole answer. */
        answerTimeoutMs: z.number().int().min(1000).max(120_000).default(20_000),
        /** Earlier turns sent as context (kept in memory only). */
        historyTurns: z.number().int().min(0).max(20).default(4),
        /** Send the question's audio when the on-device transcript is less sure than this. */
        audioBelowConfidence: unit.default(0.6),
        /** May a downscaled frame leave the device for a question about what the wearer sees? */
        sendImages: z.boolean().default(false),
        /** Longest side and byte cap of that JPEG. */
        imageMaxSidePx: z.number().int().min(128).max(2048).default(640),
        imageMaxBytes: z.number().int().min(10_000).max(2_000_000).default(150_000),
        /** Per request to the orders API. */
        requestTimeoutMs: z.number().int().min(500).max(60_000).default(5000),
      })
      .strict()
      .prefault({}),
    orders: z
      .object({
        /** How long the wearer has to say "yes" to an offer, from the end of the spoken offer. */
        confirmWindowMs: z.number().int().min(2000).max(30_000).default(8000),
        /** Refused above these (in the offer's currency units). */
        maxOrderAmount: z.number().min(0).default(500),
        maxDailyAmount: z.number().min(0).default(1000),
        /** Folder of the durable outbox (relative paths are from the working directory). */
        outboxDir: z.string().min(1).default('.glasses/outbox'),
        /** Retry backoff for orders the cloud has not acknowledged. */
        retryInitialMs: z.number().int().min(10).max(60_000).default(500),
        retryMaxMs: z.number().int().min(100).max(600_000).default(30_000),
      })
      .strict()
      .prefault({}),
    health: z
      .object({
        /**
         * Where `glasses run` keeps its health report (JSON: models loaded, mic open, loop running),
         * rewritten atomically while it runs; flashing waits for it. '' writes none.
         */
        file: z.string().default(''),
        /** How often the report is rewritten while the loop runs. */
        intervalMs: z.number().int().min(200).max(60_000).default(2000),
      })
      .strict()
      .prefault({}),
    audio: z
      .object({
        /** ALSA capture device (arecord -D). */
        micDevice: z.string().min(1).default('default'),
        /** ALSA playback device (aplay -D). */
        speakerDevice: z.string().min(1).default('default'),
      })
      .strict()
      .prefault({}),
    battery: z
      .object({
        /**
         * Linux's power-supply class: the folder whose entries of `type` Battery give `capacity`
         * (the board's fuel gauge shows up there). A fake folder stands in for it on a dev machine.
         */
        powerSupplyDir: z.string().min(1).default('/sys/class/power_supply'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type WakeConfig = Config['wake'];

type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;
export type FrozenConfig = DeepReadonly<Config>;

const ENV_PREFIX = 'GLASSES_';
const ENV_NOT_CONFIG = new Set(['GLASSES_CONFIG']);

function camel(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function parseEnvValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

type Tree = Record<string, unknown>;

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Environment overrides as a tree, with each leaf's variable name kept for error messages. */
export function envOverrides(env: NodeJS.ProcessEnv): { tree: Tree; sources: Map<string, string> } {
  const tree: Tree = {};
  const sources = new Map<string, string>();
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || ENV_NOT_CONFIG.has(name) || raw === undefined) continue;
    const path = name.slice(ENV_PREFIX.length).split('__').map(camel);
    let node = tree;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      node = isTree(next) ? next : (node[key] = {});
    }
    node[path[path.length - 1] ?? ''] = parseEnvValue(raw);
    sources.set(path.join('.'), name);
  }
  return { tree, sources };
}

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isTree(b) && isTree(v) ? merge(b, v) : v;
  }
  return out;
}

function valueAt(tree: unknown, path: readonly PropertyKey[]): unknown {
  let node = tree;
  for (const key of path) {
    if (!isTree(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export interface LoadConfigOptions {
  /** A JSON config file; `GLASSES_CONFIG` names one when this is absent. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Overrides from the command line, applied last. */
  overrides?: Tree;
}

/** Reads, validates and freezes the config. Throws E_CONFIG_FILE or E_CONFIG_INVALID. */
export function loadConfig(options: LoadConfigOptions = {}): FrozenConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.GLASSES_CONFIG;
  let fromFile: Tree = {};
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new GlassesError('E_CONFIG_FILE', `config file ${file}: cannot read it (${messageOf(err)})`, {
        details: { file },
        cause: err,
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new GlassesError('E_CONFIG_FILE', `config file ${file}: not valid JSON (${messageOf(err)})`, {
        details: { file },
        cause: err,
      });
    }
    if (!isTree(parsed)) {
      throw new GlassesError(
        'E_CONFIG_FILE',
        `config file ${file}: expected a JSON object at the top level`,
        {
          details: { file },
        },
      );
    }
    fromFile = parsed;
  }
  const { tree: fromEnv, sources } = envOverrides(env);
  const raw = merge(merge(fromFile, fromEnv), options.overrides ?? {});
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const keys =
        issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
      return keys
        .map((path) => {
          const key = path.map(String).join('.');
          const where = sources.get(key) ?? (file !== undefined ? `${file}: ${key}` : key);
          if (issue.code === 'unrecognized_keys') return `${where}: unknown key`;
          const at = valueAt(raw, path);
          const value = at === undefined ? 'missing' : shownValue(at);
          return `${where} = ${value}: ${issue.message}`;
        })
        .join('\n');
    });
    throw new GlassesError('E_CONFIG_INVALID', `invalid config:\n${lines.join('\n')}`, {
      details: { file, issues: result.error.issues.length },
    });
  }
  const config = deepFreeze(result.data);
  GIVEN_KEYS.set(config, givenKeys(raw));
  return config;
}

/** The key paths each loaded config was given (file, environment, command line), by config object. */
const GIVEN_KEYS = new WeakMap<object, ReadonlySet<string>>();

function givenKeys(tree: Tree, prefix = '', into = new Set<string>()): Set<string> {
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    into.add(path);
    if (isTree(value)) givenKeys(value, path, into);
  }
  return into;
}

/**
 * Was `key` (a dotted path such as `camera.device`) set by the config file, a GLASSES_* variable or
 * the command line, rather than left to its default? Optional parts (the camera) are required only
 * once someone names them. False for a config not made by loadConfig.
 */
export function isConfigured(config: FrozenConfig, key: string): boolean {
  return GIVEN_KEYS.get(config)?.has(key) ?? false;
}

/**
 * A config value as the error shows it: JSON, but with numbers JSON cannot write (1e999 reads as
 * Infinity, which JSON.stringify prints as null) shown as what they are.
 */
function shownValue(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  );
}

/**
 * The score a head fires at: `wake.thresholds[phrase]` when configured, else the threshold its
 * training chose (our own heads carry it in the models manifest), else `wake.scoreThreshold`.
 */
export function thresholdFor(wake: DeepReadonly<WakeConfig>, phrase: string, trained?: number): number {
  return new Map(Object.entries(wake.thresholds)).get(phrase) ?? trained ?? wake.scoreThreshold;
}
