/** The port every model runs behind, so features and detectors are tested with fakes. */
import type { ModelEntry } from '../models/manifest.js';

export interface Tensor {
  readonly data: Float32Array | BigInt64Array;
  readonly dims: readonly number[];
}

export interface FloatTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface InferenceModel {
  readonly name: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, FloatTensor>>;
  release(): Promise<void>;
}

/** Loads a manifest entry (checksum first) into a runnable model. */
export type ModelLoader = (entry: ModelEntry) => Promise<InferenceModel>;

/** Runs a model with one input and one output: the common case for the wake and head models. */
export async function runSingle(model: InferenceModel, input: Tensor): Promise<Float32Array> {
  const inName = model.inputNames[0];
  const outName = model.outputNames[0];
  if (inName === undefined || outName === undefined)
    throw new Error(`model ${model.name} has no input or output`);
  const t = (await model.run({ [inName]: input }))[outName];
  if (t === undefined) throw new Error(`model ${model.name} returned no output "${outName}"`);
  return t.data;
}
