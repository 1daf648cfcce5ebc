/**
 * Writes a trained head as an ONNX file with its manifest entry, then checks the file the way the
 * runtime will use it: loaded by the runtime's own loader (size, sha256, input and output names
 * against the entry), and run on every validation window, where it must agree with the TF.js model
 * within VERIFY_TOLERANCE.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { messageOf } from '../../errors.js';
import type { InferenceModel } from '../../inference/model.js';
import { OWN_MODEL_PACKAGE, type ModelEntry } from '../../models/manifest.js';
import { EMBEDDING_DIM } from '../../wake/features.js';
import { HEAD_WINDOW_EMBEDDINGS } from '../../wake/detector.js';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { gatherWindows, WINDOW_VALUES, type EmbeddingStore } from './embeddings.js';
import { WakeTrainError } from './errors.js';
import { modelScorer } from './evaluate.js';
import type { HeadWeights } from './head.js';
import { exportHeadOnnx, PRETRAINED_IO_NAMES } from './onnx-head.js';
import type { WindowPredictor } from './ensemble.js';
import { scoreRows } from './trainer.js';

/** The bound on |ONNX - TF.js| for any validation window. */
export const VERIFY_TOLERANCE = 1e-5;

export interface ExportOptions {
  name: string;
  /** The words, as the manifest's `phrase`. */
  phrase: string;
  outDir: string;
  /** This package's version and licence (package.json). */
  packageVersion: string;
  licence: string;
  /** Where the file lives in the repository, for `source.path`. */
  sourcePath: string;
  /** The score the head fires at, chosen on the validation split: the manifest entry's `threshold`. */
  threshold: number;
  /** A second-stage verifier (verifier.ts): the name of the head whose detections it judges. */
  verifies?: string;
  metadata: Readonly<Record<string, string>>;
}

export interface Exported {
  file: string;
  entry: ModelEntry;
}

export async function writeHeadOnnx(
  weights: HeadWeights | readonly HeadWeights[],
  options: ExportOptions,
): Promise<Exported> {
  const bytes = exportHeadOnnx(weights, {
    ...PRETRAINED_IO_NAMES,
    producerVersion: options.packageVersion,
    metadata: options.metadata,
  });
  const fileName = `${options.name}.onnx`;
  const file = join(options.outDir, fileName);
  await fs.mkdir(options.outDir, { recursive: true });
  // A model, as shared as the models folder it goes in.
  await writeFileAtomic(file, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
    mode: 0o644,
  });
  const entry: ModelEntry = {
    name: options.name,
    kind: options.verifies === undefined ? 'wake-head' : 'wake-verifier',
    file: fileName,
    phrase: options.phrase,
    ...(options.verifies === undefined ? {} : { verifies: options.verifies }),
    threshold: options.threshold,
    source: { package: OWN_MODEL_PACKAGE, version: options.packageVersion, path: options.sourcePath },
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.length,
    licence: options.licence,
    inputs: [
      {
        name: PRETRAINED_IO_NAMES.inputName,
        type: 'float32',
        shape: [1, HEAD_WINDOW_EMBEDDINGS, EMBEDDING_DIM],
      },
    ],
    outputs: [{ name: PRETRAINED_IO_NAMES.outputName, type: 'float32', shape: [1, 1] }],
  };
  return { file, entry };
}

export interface Verification {
  windows: number;
  maxAbsDiff: number;
  tolerance: number;
}

/**
 * Scores every window in `rows` with both models and fails (E_WAKE_EXPORT) if any pair differs by
 * more than the tolerance.
 */
export async function verifyExport(
  head: WindowPredictor,
  onnx: InferenceModel,
  store: EmbeddingStore,
  rows: Uint32Array,
  options: { onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<Verification> {
  const reference = await scoreRows(head, store, rows);
  const scorer = modelScorer(onnx);
  const chunk = 1024;
  const buffer = new Float32Array(chunk * WINDOW_VALUES);
  let maxAbsDiff = 0;
  let worst = -1;
  for (let start = 0; start < rows.length; start += chunk) {
    options.signal?.throwIfAborted();
    const part = rows.subarray(start, Math.min(rows.length, start + chunk));
    const scores = await scorer(gatherWindows(store, part, buffer), part.length);
    for (let i = 0; i < part.length; i++) {
      const d = Math.abs((scores[i] ?? Number.NaN) - (reference[start + i] ?? Number.NaN));
      // NaN fails too: a comparison with NaN is never "within".
      if (!(d <= maxAbsDiff)) {
        maxAbsDiff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
        worst = start + i;
      }
    }
    options.onProgress?.(start + part.length, rows.length);
  }
  if (!(maxAbsDiff <= VERIFY_TOLERANCE)) {
    throw new WakeTrainError(
      'E_WAKE_EXPORT',
      `${onnx.name}: the ONNX head and the TF.js model differ by ${maxAbsDiff.toExponential(2)} on validation window ${worst} of ${rows.length} (allowed ${VERIFY_TOLERANCE})`,
      { details: { model: onnx.name, maxAbsDiff, window: worst } },
    );
  }
  return { windows: rows.length, maxAbsDiff, tolerance: VERIFY_TOLERANCE };
}

/** Loads the exported file through `load` (the runtime's loader), as E_WAKE_EXPORT if it is refused. */
export async function loadExported(
  load: (entry: ModelEntry) => Promise<InferenceModel>,
  exported: Exported,
): Promise<InferenceModel> {
  try {
    return await load(exported.entry);
  } catch (err) {
    throw new WakeTrainError(
      'E_WAKE_EXPORT',
      `${exported.file}: the runtime's loader refused the exported head (${messageOf(err)})`,
      { details: { file: exported.file }, cause: err },
    );
  }
}
