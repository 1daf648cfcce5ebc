/**
 * onnxruntime-node behind the InferenceModel port. Built by inference/model-set.ts (the models a
 * process has open) and by `glasses train-wake`, which checks the head it exported through it.
 */
import * as ort from 'onnxruntime-node';
import { GlassesError, messageOf } from '../errors.js';
import { verifiedModelPath, type ModelEntry } from '../models/manifest.js';
import type { FloatTensor, InferenceModel, ModelLoader, Tensor } from './model.js';

export interface OnnxLoaderOptions {
  modelsDir: string;
  /**
   * Threads per session. The wake models are small: one thread each leaves the board's other core
   * for the voice loop, and measured here more threads only added scheduling cost.
   */
  intraOpThreads?: number;
  /** Overrides for some kinds of model (the OCR models take variable-sized inputs). */
  perKind?: Partial<Record<ModelEntry['kind'], SessionTuning>>;
}

export interface SessionTuning {
  intraOpThreads?: number;
  /**
   * onnxruntime's memory arena and pattern caching pay off when every run has the same shapes (the
   * wake models); with a new shape each run (OCR lines of any width) they only grow. Measured on
   * PP-OCRv4 here: 60 MB less resident with them off, no slower.
   */
  memArena?: boolean;
}

class OnnxModel implements InferenceModel {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  constructor(
    readonly name: string,
    private readonly session: ort.InferenceSession,
  ) {
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
  }

  async run(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, FloatTensor>> {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [key, t] of Object.entries(feeds)) {
      inputs[key] =
        t.data instanceof BigInt64Array
          ? new ort.Tensor('int64', t.data, t.dims)
          : new ort.Tensor('float32', t.data, t.dims);
    }
    const result = await this.session.run(inputs);
    const out: Record<string, FloatTensor> = {};
    for (const [key, t] of Object.entries(result)) {
      if (!(t.data instanceof Float32Array))
        throw new Error(`model ${this.name}: output ${key} is ${t.type}, not float32`);
      out[key] = { data: t.data, dims: t.dims };
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export function createOnnxLoader(options: OnnxLoaderOptions): ModelLoader {
  return async (entry: ModelEntry): Promise<InferenceModel> => {
    const file = await verifiedModelPath(options.modelsDir, entry);
    let session: ort.InferenceSession;
    try {
      const tuning = options.perKind?.[entry.kind] ?? {};
      session = await ort.InferenceSession.create(file, {
        intraOpNumThreads: tuning.intraOpThreads ?? options.intraOpThreads ?? 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        ...(tuning.memArena === false ? { enableCpuMemArena: false, enableMemPattern: false } : {}),
      });
    } catch (err) {
      throw new GlassesError(
        'E_MODEL_LOAD',
        `model file ${file} (${entry.name}): onnxruntime refused it (${messageOf(err)})`,
        {
          details: { file, model: entry.name },
          cause: err,
        },
      );
    }
    const expectIn = entry.inputs.map((i) => i.name).join(',');
    const expectOut = entry.outputs.map((o) => o.name).join(',');
    if (session.inputNames.join(',') !== expectIn || session.outputNames.join(',') !== expectOut) {
      await session.release();
      throw new GlassesError(
        'E_MODEL_SHAPE',
        `model file ${file} (${entry.name}): inputs [${session.inputNames.join(', ')}] outputs [${session.outputNames.join(', ')}], the manifest says [${expectIn}] -> [${expectOut}]`,
        { details: { file, model: entry.name } },
      );
    }
    return new OnnxModel(entry.name, session);
  };
}
