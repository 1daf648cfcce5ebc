import type { FloatTensor, InferenceModel, Tensor } from '../../firmware-ts/src/inference/model.js';

/** A model whose output is computed by `fn` from the call number and the inputs. */
export class FakeModel implements InferenceModel {
  calls = 0;
  constructor(
    readonly name: string,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
    private readonly fn: (
      call: number,
      feeds: Readonly<Record<string, Tensor>>,
    ) => Record<string, Float32Array>,
  ) {}

  run(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, FloatTensor>> {
    const out = this.fn(this.calls++, feeds);
    return Promise.resolve(
      Object.fromEntries(Object.entries(out).map(([k, data]) => [k, { data, dims: [data.length] }])),
    );
  }

  release(): Promise<void> {
    return Promise.resolve();
  }
}

export function fakeFeatureModels(): { melspectrogram: FakeModel; embedding: FakeModel } {
  return {
    melspectrogram: new FakeModel('mel', ['input'], ['output'], () => ({ output: new Float32Array(8 * 32) })),
    embedding: new FakeModel('emb', ['input_1'], ['conv2d_19'], () => ({ conv2d_19: new Float32Array(96) })),
  };
}

/** A wake head that returns `scores[i]` on its i-th call (0 after the script ends). */
export function scriptedHead(name: string, scores: readonly number[]): FakeModel {
  return new FakeModel(name, ['x'], ['y'], (call) => ({ y: Float32Array.of(scores[call] ?? 0) }));
}
