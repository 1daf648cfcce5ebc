/** The feature cache: computed once, read back equal, recomputed when the data or the models change. */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../../firmware-ts/src/audio/wav.js';
import { FRAME_SAMPLES } from '../../../firmware-ts/src/wake/features.js';
import type { WakeDataIndex } from '../../../firmware-ts/src/wake-train/data/dataset.js';
import { HISTORY_ROWS } from '../../../firmware-ts/src/wake-train/train/embeddings.js';
import { loadOrComputeFeatures } from '../../../firmware-ts/src/wake-train/train/feature-cache.js';
import { fakeFeatureModels, FakeModel } from '../../helpers/fake-model.js';

let dir: string;
let index: WakeDataIndex;

function clip(file: string, seconds: number): WakeDataIndex['clips'][number] {
  return {
    file,
    label: 'neg',
    kind: 'noise',
    voice: 'none',
    variant: 'white',
    split: 'train',
    seconds,
    weight: 1,
    augment: 'none',
  };
}

beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'train-features-'));
  for (const [name, frames] of [
    ['a.wav', 7],
    ['b.wav', 3],
  ] as const) {
    const pcm = Int16Array.from({ length: frames * FRAME_SAMPLES + 100 }, (_, i) => (i * 37) % 2000);
    await fs.writeFile(join(dir, name), encodeWav(pcm, 16_000, 1));
  }
  index = {
    version: 1,
    phrase: 'hey test',
    seed: 1,
    size: 'smoke',
    tools: 'test',
    voices: { train: [], val: [], test: [] },
    skippedVoices: [],
    nearMisses: [],
    clips: [clip('a.wav', 0.6), clip('b.wav', 0.25)],
  };
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Feature models whose embeddings count the embedding calls, so every row differs. */
function countingModels(): { melspectrogram: FakeModel; embedding: FakeModel } {
  return {
    melspectrogram: fakeFeatureModels().melspectrogram,
    embedding: new FakeModel('emb', ['input_1'], ['conv2d_19'], (call) => ({
      conv2d_19: new Float32Array(96).fill(call),
    })),
  };
}

describe('loadOrComputeFeatures', () => {
  it('computes once, then reads the same numbers back; new models mean new features', async () => {
    const cacheDir = join(dir, 'cache');
    const inputs = { dataDir: dir, index, modelSha256: ['m', 'e'], cacheDir, concurrency: 1 };
    const first = await loadOrComputeFeatures({ ...inputs, models: countingModels() });
    expect(first.cached).toBe(false);
    expect(first.store.clips).toEqual([
      { row: 0, frames: 7 },
      { row: HISTORY_ROWS + 7, frames: 3 },
    ]);
    const again = await loadOrComputeFeatures({ ...inputs, models: countingModels() });
    expect(again.cached).toBe(true);
    expect(again.key).toBe(first.key);
    expect(again.store).toEqual(first.store);

    const other = await loadOrComputeFeatures({
      ...inputs,
      models: countingModels(),
      modelSha256: ['m2', 'e'],
    });
    expect(other.cached).toBe(false);
    expect(other.key).not.toBe(first.key);
  });

  it('does not trust a truncated cache file', async () => {
    const cacheDir = join(dir, 'cache2');
    const inputs = { dataDir: dir, index, modelSha256: ['m', 'e'], cacheDir, concurrency: 2 };
    const first = await loadOrComputeFeatures({ ...inputs, models: countingModels() });
    const f32 = join(cacheDir, `${first.key}.f32`);
    await fs.truncate(f32, (await fs.stat(f32)).size - 4);
    const again = await loadOrComputeFeatures({ ...inputs, models: countingModels() });
    expect(again.cached).toBe(false);
    expect(again.store.clips).toEqual(first.store.clips);
  });
});
