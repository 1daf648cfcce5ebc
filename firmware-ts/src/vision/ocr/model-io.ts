/** One input, one output, with its dims: what both PP-OCR models are. */
import { GlassesError } from '../../errors.js';
import type { FloatTensor, InferenceModel, Tensor } from '../../inference/model.js';

export async function modelOutput(model: InferenceModel, input: Tensor): Promise<FloatTensor> {
  const inName = model.inputNames[0];
  const outName = model.outputNames[0];
  if (inName === undefined || outName === undefined) {
    throw new GlassesError('E_MODEL_SHAPE', `model ${model.name} has no input or no output`, {
      details: { model: model.name },
    });
  }
  const out = (await model.run({ [inName]: input }))[outName];
  if (out === undefined) {
    throw new GlassesError('E_MODEL_SHAPE', `model ${model.name} returned no output "${outName}"`, {
      details: { model: model.name },
    });
  }
  return out;
}
