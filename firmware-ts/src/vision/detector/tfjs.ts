/**
 * TF.js for the vision models: picks the backend (tfjs-node when asked and installed, else wasm; never
 * the pure-JS cpu backend, ~30x slower) and loads a graph model from files checked against the models
 * manifest. Nothing is fetched: the model.json and its weights are read from disk and handed to TF.js
 * through an IOHandler, so no URL (http or file://) is ever involved.
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { GlassesError, messageOf } from '../../errors.js';
import type { Log } from '../../log.js';
import { verifiedModelPath, type ModelEntry } from '../../models/manifest.js';

export type { GraphModel };
export type BackendChoice = 'auto' | 'wasm' | 'tfjs-node';
/** TF.js names: tfjs-node registers itself as 'tensorflow'. */
export type BackendName = 'wasm' | 'tensorflow';

/** Held in a variable so that TypeScript does not look for the optional package at compile time. */
const TFJS_NODE_PACKAGE = '@tensorflow/tfjs-node';

let wasmPathsSet = false;

/**
 * Makes `choice` the TF.js backend of the process (TF.js has one engine per process) and returns its
 * name. Throws E_VISION_BACKEND rather than ever running on another backend than the one named.
 */
export async function useBackend(choice: BackendChoice, log?: Log): Promise<BackendName> {
  if (choice !== 'wasm') {
    const failure = await importTfjsNode();
    if (failure === undefined) {
      await activate('tensorflow');
      return 'tensorflow';
    }
    if (choice === 'tfjs-node') {
      throw new GlassesError(
        'E_VISION_BACKEND',
        `vision backend tfjs-node: ${TFJS_NODE_PACKAGE} cannot be loaded (${failure.reason}); install it or set vision.backend to "wasm" or "auto"`,
        { details: { backend: 'tfjs-node' } },
      );
    }
    // Not installed is the usual case (an optional package): said at every start, it would only be noise.
    // Installed but failing to load is worth a line.
    const level = failure.notInstalled ? 'debug' : 'info';
    log?.[level](
      { backend: 'wasm', reason: failure.reason },
      'tfjs-node unavailable, using the wasm backend',
    );
  }
  prepareWasm();
  await activate('wasm');
  return 'wasm';
}

/** undefined when tfjs-node is loaded and registered, else why not. */
async function importTfjsNode(): Promise<{ reason: string; notInstalled: boolean } | undefined> {
  try {
    await (import(TFJS_NODE_PACKAGE) as Promise<unknown>);
  } catch (err) {
    const reason = messageOf(err);
    // The package itself missing, not one of its own imports (a broken install).
    const notInstalled =
      (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' &&
      reason.includes(`'${TFJS_NODE_PACKAGE}'`);
    return { reason, notInstalled };
  }
  // A second copy of tfjs-core under tfjs-node would register the backend in an engine we do not use.
  // (findBackendFactory is typed as always finding one; it returns null for an unknown name.)
  const factory = tf.findBackendFactory('tensorflow') as unknown;
  return factory === null || factory === undefined
    ? {
        reason: `${TFJS_NODE_PACKAGE} registered its backend with another copy of @tensorflow/tfjs-core`,
        notInstalled: false,
      }
    : undefined;
}

function prepareWasm(): void {
  if (wasmPathsSet) return;
  // The .wasm binaries are read from the package's dist/ folder on disk (a path, so no fetch). It has
  // to be set before the backend first starts, and only once.
  const require = createRequire(import.meta.url);
  setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}/`);
  // Threads: the wasm backend turns multithreading off in Node (WASM_HAS_MULTITHREAD_SUPPORT is false
  // when IS_NODE, tensorflow/tfjs#3830), and forcing the flag on fails here because Node's Worker cannot
  // start the blob: URL the backend builds for its pthreads. So setThreadsCount has no effect and is
  // not called: the SIMD single-threaded binary runs, leaving the board's other core to the voice loop.
  wasmPathsSet = true;
}

async function activate(name: BackendName): Promise<void> {
  let ok: boolean;
  const before = processListeners();
  try {
    // Production mode drops TF.js's debug-time checks on every op (human does the same).
    tf.enableProdMode();
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (err) {
    throw new GlassesError('E_VISION_BACKEND', `vision backend ${name} cannot start (${messageOf(err)})`, {
      details: { backend: name },
      cause: err,
    });
  } finally {
    removeListenersAddedSince(before);
  }
  // setBackend reports a failed start by returning false; check too that TF.js did not settle on
  // another registered backend (the cpu one, if anything in the process registered it).
  const active = ok ? tf.getBackend() : 'none';
  if (active !== name) {
    throw new GlassesError(
      'E_VISION_BACKEND',
      `vision backend ${name} cannot start (TF.js is on ${active}); the cpu backend is never used`,
      { details: { backend: name, active } },
    );
  }
}

interface Listeners {
  uncaughtException: NodeJS.UncaughtExceptionListener[];
  unhandledRejection: NodeJS.UnhandledRejectionListener[];
}

function processListeners(): Listeners {
  return {
    uncaughtException: process.listeners('uncaughtException'),
    unhandledRejection: process.listeners('unhandledRejection'),
  };
}

/**
 * The wasm backend's Emscripten glue adds process-wide uncaughtException/unhandledRejection handlers
 * that rethrow: Node's own behaviour, except that the crash report becomes a dump of the glue's
 * minified source line and the runtime's own handlers no longer decide. They are taken back out; TF.js
 * never calls the Emscripten exit() they exist for.
 */
function removeListenersAddedSince(before: Listeners): void {
  for (const l of process.listeners('uncaughtException')) {
    if (!before.uncaughtException.includes(l)) process.removeListener('uncaughtException', l);
  }
  for (const l of process.listeners('unhandledRejection')) {
    if (!before.unhandledRejection.includes(l)) process.removeListener('unhandledRejection', l);
  }
}

/**
 * A graph tensor's name without the output index: the manifest copies the model.json signature
 * (`input_1:0`), TF.js names a graph's inputs and outputs by node (`input_1`).
 */
export function tensorName(name: string): string {
  return name.endsWith(':0') ? name.slice(0, -2) : name;
}

/** The parts of a TF.js model.json the loader reads. */
interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

function isModelJson(json: unknown): json is ModelJson & tf.io.ModelJSON {
  if (typeof json !== 'object' || json === null) return false;
  const { modelTopology, weightsManifest } = json as Record<string, unknown>;
  return (
    typeof modelTopology === 'object' &&
    modelTopology !== null &&
    Array.isArray(weightsManifest) &&
    weightsManifest.every(
      (g: unknown) =>
        typeof g === 'object' &&
        g !== null &&
        Array.isArray((g as Record<string, unknown>).paths) &&
        Array.isArray((g as Record<string, unknown>).weights),
    )
  );
}

/**
 * Loads a TF.js graph model (its model.json entry and its weights entry), both checked against the
 * manifest first (E_MODEL_MISSING / E_MODEL_CHECKSUM); E_MODEL_LOAD if TF.js refuses them, E_MODEL_SHAPE
 * if its inputs or outputs are not the manifest's.
 */
export async function loadVerifiedGraphModel(
  modelsDir: string,
  model: ModelEntry,
  weights: ModelEntry,
): Promise<GraphModel> {
  const jsonFile = await verifiedModelPath(modelsDir, model);
  const weightsFile = await verifiedModelPath(modelsDir, weights);
  const refuse = (why: string, cause?: unknown): GlassesError =>
    new GlassesError('E_MODEL_LOAD', `model file ${jsonFile} (${model.name}): ${why}`, {
      details: { file: jsonFile, model: model.name },
      cause,
    });
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(jsonFile, 'utf8'));
  } catch (err) {
    throw refuse(`not a TF.js model.json (${messageOf(err)})`, err);
  }
  if (!isModelJson(json)) throw refuse('not a TF.js graph model.json (no modelTopology/weightsManifest)');
  const paths = json.weightsManifest.flatMap((g) => g.paths);
  // The weights must be exactly the verified file: a model.json naming other shards would load bytes
  // that no checksum covered.
  if (paths.length !== 1 || paths[0] !== weights.file) {
    throw refuse(`its weights are [${paths.join(', ')}], the manifest says [${weights.file}]`);
  }
  const bytes = await fs.readFile(weightsFile);
  if (bytes.length !== weights.bytes) throw refuse(`${weightsFile} changed after it was verified`);
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const handler: tf.io.IOHandler = {
    load: () =>
      tf.io.getModelArtifactsForJSON(json, (manifest) =>
        Promise.resolve([manifest.flatMap((g) => g.weights), weightData]),
      ),
  };
  let graph: GraphModel;
  try {
    graph = await loadGraphModel(handler);
  } catch (err) {
    throw refuse(`TF.js refused it (${messageOf(err)})`, err);
  }
  const names = (infos: readonly { name: string }[]): string =>
    infos
      .map((i) => tensorName(i.name))
      .sort()
      .join(',');
  const haveIn = names(graph.inputs);
  const haveOut = names(graph.outputs);
  const wantIn = names(model.inputs);
  const wantOut = names(model.outputs);
  if (haveIn !== wantIn || haveOut !== wantOut) {
    graph.dispose();
    throw new GlassesError(
      'E_MODEL_SHAPE',
      `model file ${jsonFile} (${model.name}): inputs [${haveIn}] outputs [${haveOut}], the manifest says [${wantIn}] -> [${wantOut}]`,
      { details: { file: jsonFile, model: model.name } },
    );
  }
  return graph;
}
