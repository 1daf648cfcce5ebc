/** An InferenceModel wrapper that adds up the wall time of its runs, for per-stage benchmark figures. */
import type { FloatTensor, InferenceModel, Tensor } from '../inference/model.js';

export class TimedModel implements InferenceModel {
  totalMs = 0;
  runs = 0;

  constructor(private readonly inner: InferenceModel) {}

  get name(): string {
    return this.inner.name;
  }
  get inputNames(): readonly string[] {
    return this.inner.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.inner.outputNames;
  }

  async run(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, FloatTensor>> {
    const t0 = performance.now();
    try {
      return await this.inner.run(feeds);
    } finally {
      this.totalMs += performance.now() - t0;
      this.runs++;
    }
  }

  release(): Promise<void> {
    return this.inner.release();
  }

  resetTiming(): void {
    this.totalMs = 0;
    this.runs = 0;
  }
}
