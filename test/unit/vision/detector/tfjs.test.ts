import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { isGlassesError } from '../../../../firmware-ts/src/errors.js';
import type { ModelEntry } from '../../../../firmware-ts/src/models/manifest.js';
import {
  loadVerifiedGraphModel,
  tensorName,
  useBackend,
} from '../../../../firmware-ts/src/vision/detector/tfjs.js';

/** y = x * w with w = 2 read from the weights file: the smallest graph model there is. */
function tinyModelJson(weightsFile: string): object {
  return {
    format: 'graph-model',
    modelTopology: {
      node: [
        {
          name: 'x',
          op: 'Placeholder',
          attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '2' }] } } },
        },
        {
          name: 'w',
          op: 'Const',
          attr: {
            value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '1' }] } } },
            dtype: { type: 'DT_FLOAT' },
          },
        },
        { name: 'y', op: 'Mul', input: ['x', 'w'], attr: { T: { type: 'DT_FLOAT' } } },
      ],
      library: {},
      versions: {},
    },
    weightsManifest: [{ paths: [weightsFile], weights: [{ name: 'w', shape: [1], dtype: 'float32' }] }],
  };
}

function entry(dir: string, file: string, content: Buffer, overrides: Partial<ModelEntry> = {}): ModelEntry {
  writeFileSync(join(dir, file), content);
  return {
    name: file.replace(/\W/g, '_'),
    kind: 'detector',
    format: 'tfjs-graph',
    file,
    source: { package: 'test', version: '1.0.0', path: file },
    sha256: createHash('sha256').update(content).digest('hex'),
    bytes: content.length,
    licence: 'MIT',
    inputs: [{ name: 'x', type: 'float32', shape: [2] }],
    outputs: [{ name: 'y:0', type: 'float32', shape: [2] }],
    ...overrides,
  };
}

function tinyModel(options: { weightsPath?: string; outputs?: string[] } = {}): {
  dir: string;
  model: ModelEntry;
  weights: ModelEntry;
} {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-model-'));
  const weights = entry(dir, 'tiny.bin', Buffer.from(new Float32Array([2]).buffer), {
    kind: 'detector-weights',
    inputs: [],
    outputs: [],
  });
  const json = Buffer.from(JSON.stringify(tinyModelJson(options.weightsPath ?? 'tiny.bin')));
  const model = entry(dir, 'tiny.json', json, {
    ...(options.outputs && {
      outputs: options.outputs.map((name) => ({ name, type: 'float32', shape: [2] })),
    }),
  });
  return { dir, model, weights };
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return isGlassesError(err) ? err.code : `not a GlassesError: ${String(err)}`;
  }
}

describe('TF.js backend', () => {
  it('runs on wasm when asked, never on the cpu backend, and leaves no exception handlers behind', async () => {
    // The first start of the wasm backend in this process: its Emscripten glue adds the handlers.
    const before = [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')];
    expect(await useBackend('wasm')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.findBackendFactory('cpu') as unknown).toBeNull();
    expect([process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')]).toEqual(
      before,
    );
  });

  it('falls back to wasm on auto when tfjs-node is not installed, and refuses tfjs-node by name', async () => {
    const spec = '@tensorflow/tfjs-node';
    const installed = await (import(spec) as Promise<unknown>).then(
      () => true,
      () => false,
    );
    if (installed) return; // tfjs-node present: the fallback cannot be seen here
    const logged: { level: number; msg: string }[] = [];
    const log = pino(
      { level: 'debug' },
      { write: (l: string) => logged.push(JSON.parse(l) as (typeof logged)[0]) },
    );
    expect(await useBackend('auto', log)).toBe('wasm');
    // An optional package not installed is the usual case: not worth a line at info on every start.
    expect(logged.map((l) => [l.level, l.msg])).toEqual([
      [20, 'tfjs-node unavailable, using the wasm backend'],
    ]);
    await expect(useBackend('tfjs-node')).rejects.toMatchObject({
      code: 'E_VISION_BACKEND',
      message: expect.stringContaining('@tensorflow/tfjs-node') as string,
    });
  });
});

describe('loadVerifiedGraphModel', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('loads a graph model from verified files and runs it', async () => {
    const { dir, model, weights } = tinyModel();
    const graph = await loadVerifiedGraphModel(dir, model, weights);
    try {
      const y = graph.execute(tf.tensor1d([1, 3]), 'y') as tf.Tensor;
      expect(Array.from(await y.data())).toEqual([2, 6]);
      y.dispose();
    } finally {
      graph.dispose();
    }
  });

  it('refuses a missing or altered file before TF.js sees it', async () => {
    const { dir, model, weights } = tinyModel();
    expect(await codeOf(loadVerifiedGraphModel(dir, model, { ...weights, file: 'gone.bin' }))).toBe(
      'E_MODEL_MISSING',
    );
    writeFileSync(join(dir, 'tiny.bin'), Buffer.from(new Float32Array([3]).buffer));
    expect(await codeOf(loadVerifiedGraphModel(dir, model, weights))).toBe('E_MODEL_CHECKSUM');
  });

  it('refuses a model.json whose weights are not the verified file', async () => {
    const { dir, model, weights } = tinyModel({ weightsPath: 'other.bin' });
    const err = await loadVerifiedGraphModel(dir, model, weights).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_MODEL_LOAD' });
    expect((err as Error).message).toContain('other.bin');
  });

  it('refuses a model.json that is not one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-model-'));
    const weights = entry(dir, 'w.bin', Buffer.alloc(4));
    expect(await codeOf(loadVerifiedGraphModel(dir, entry(dir, 'm.json', Buffer.from('{')), weights))).toBe(
      'E_MODEL_LOAD',
    );
    expect(
      await codeOf(loadVerifiedGraphModel(dir, entry(dir, 'n.json', Buffer.from('{"a":1}')), weights)),
    ).toBe('E_MODEL_LOAD');
  });

  it('refuses a model whose outputs differ from the manifest', async () => {
    const { dir, model, weights } = tinyModel({ outputs: ['z'] });
    expect(await codeOf(loadVerifiedGraphModel(dir, model, weights))).toBe('E_MODEL_SHAPE');
  });

  it('names graph tensors without the output index', () => {
    expect(tensorName('input_1:0')).toBe('input_1');
    expect(tensorName('tower_0/images')).toBe('tower_0/images');
  });
});
