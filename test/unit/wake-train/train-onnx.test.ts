/**
 * The ONNX exporter: a tiny head with known weights, written by our own protobuf encoder, run by
 * onnxruntime-node, gives what the formula gives by hand; a full-size head loads through the
 * runtime's own loader with the pretrained heads' tensor names and agrees with TF.js.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxLoader } from '../../../firmware-ts/src/inference/onnx.js';
import { runSingle } from '../../../firmware-ts/src/inference/model.js';
import { loadManifest, findModel } from '../../../firmware-ts/src/models/manifest.js';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';
import { useBackend } from '../../../firmware-ts/src/vision/detector/tfjs.js';
import { writeHeadOnnx } from '../../../firmware-ts/src/wake-train/train/export.js';
import {
  initHeadWeights,
  WAKE_HEAD_SHAPE,
  type HeadWeights,
} from '../../../firmware-ts/src/wake-train/train/head.js';
import { exportHeadOnnx } from '../../../firmware-ts/src/wake-train/train/onnx-head.js';
import { TfHead } from '../../../firmware-ts/src/wake-train/train/tfjs-head.js';

const f = (...v: number[]): Float32Array => Float32Array.from(v);

/** 2 embeddings of 2 values (standardised) -> 3 hidden -> 3 hidden -> 1, every weight chosen by hand. */
const TINY: HeadWeights = {
  shape: { windowEmbeddings: 2, embeddingDim: 2, hidden: 3 },
  inputMean: f(0.5, -1),
  inputScale: f(2, 0.25),
  // [4 x 3], row-major: input i, unit j at i * 3 + j.
  w1: f(0.5, -1, 0.25, 1, 0.5, -0.5, -0.25, 2, 1, 0.75, 0, -1),
  b1: f(0.1, -0.2, 0.3),
  g1: f(1, 2, 0.5),
  be1: f(0, 0.5, -0.25),
  w2: f(1, 0, -1, 0.5, 1, 0, -0.5, 0.25, 2),
  b2: f(0, 0.1, -0.1),
  g2: f(1.5, 1, 1),
  be2: f(0.2, 0, 0),
  w3: f(1, -2, 0.5),
  b3: f(0.3),
};

/** The head's formula in float64, one step at a time. */
function byHand(w: HeadWeights, x: readonly number[]): number {
  const dense = (input: readonly number[], k: Float32Array, b: Float32Array, units: number): number[] =>
    Array.from({ length: units }, (_, j) => input.reduce((s, v, i) => s + v * k[i * units + j]!, b[j]!));
  const normRelu = (a: number[], g: Float32Array, be: Float32Array): number[] => {
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
    return a.map((v, i) => Math.max(0, ((v - mean) / Math.sqrt(variance + 1e-5)) * g[i]! + be[i]!));
  };
  const h = w.shape.hidden;
  const d = w.shape.embeddingDim;
  const standardised = x.map((v, i) => (v - w.inputMean[i % d]!) * w.inputScale[i % d]!);
  const r1 = normRelu(dense(standardised, w.w1, w.b1, h), w.g1, w.be1);
  const r2 = normRelu(dense(r1, w.w2, w.b2, h), w.g2, w.be2);
  const z = dense(r2, w.w3, w.b3, 1)[0]!;
  return 1 / (1 + Math.exp(-z));
}

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'train-onnx-'));
  await useBackend('wasm');
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('exportHeadOnnx', () => {
  it('writes a graph onnxruntime runs, equal to the formula computed by hand', async () => {
    const bytes = exportHeadOnnx(TINY, { inputName: 'in', outputName: 'out', producerVersion: 'test' });
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(['in']);
    expect(session.outputNames).toEqual(['out']);
    const inputs = [
      [0, 0, 0, 0],
      [1, 2, -1, 0.5],
      [-3, 0.25, 4, -2],
      [10, -10, 5, 7],
    ];
    const expected = inputs.map((x) => byHand(TINY, x));
    // The cases cover both sides of 0.5 and a saturating one, so a wrong sign or a missing layer shows.
    expect(Math.min(...expected)).toBeLessThan(0.5);
    expect(Math.max(...expected)).toBeGreaterThan(0.5);
    for (const [i, x] of inputs.entries()) {
      const r = await session.run({ in: new ort.Tensor('float32', Float32Array.from(x), [1, 2, 2]) });
      expect(r.out!.dims).toEqual([1, 1]);
      expect((r.out!.data as Float32Array)[0]).toBeCloseTo(expected[i]!, 6);
    }
    await session.release();
  });

  it('stores the metadata it is given', async () => {
    const bytes = exportHeadOnnx(TINY, {
      inputName: 'in',
      outputName: 'out',
      producerVersion: '9.9.9',
      metadata: { phrase: 'hey quark', threshold: '0.97' },
    });
    const session = await ort.InferenceSession.create(bytes);
    // onnxruntime-node does not expose metadata; the bytes hold the strings as protobuf fields.
    const text = Buffer.from(bytes).toString('latin1');
    expect(text).toContain('hey quark');
    expect(text).toContain('0.97');
    expect(text).toContain('9.9.9');
    await session.release();
  });
});

describe('an exported full-size head', () => {
  it('loads through the runtime loader with the pretrained heads’ tensor names and agrees with TF.js', async () => {
    const weights = initHeadWeights(WAKE_HEAD_SHAPE, 42, {
      mean: Float32Array.from({ length: 96 }, (_, i) => i / 10),
      scale: Float32Array.from({ length: 96 }, (_, i) => 1 / (1 + i / 50)),
    });
    const exported = await writeHeadOnnx(weights, {
      name: 'test_head',
      phrase: 'hey test',
      outDir: dir,
      packageVersion: '0.0.0',
      licence: 'UNLICENSED',
      sourcePath: 'models/test_head.onnx',
      threshold: 0.9985,
      metadata: {},
    });
    // The chosen threshold goes into the manifest entry, which the manifest schema accepts.
    expect(exported.entry.threshold).toBe(0.9985);
    await fs.writeFile(join(dir, 'manifest.json'), JSON.stringify({ models: [exported.entry] }));
    expect(findModel(await loadManifest(dir), 'test_head', 'wake-head').threshold).toBe(0.9985);
    const pretrained = findModel(await loadManifest(join(PACKAGE_ROOT, 'models')), 'hey_jarvis', 'wake-head');
    expect(exported.entry.inputs).toEqual(pretrained.inputs);
    expect(exported.entry.outputs).toEqual(pretrained.outputs);
    expect(exported.entry.bytes).toBe((await fs.stat(exported.file)).size);

    const model = await createOnnxLoader({ modelsDir: dir })(exported.entry);
    const head = new TfHead(weights, 1e-3);
    const n = 64;
    const x = Float32Array.from({ length: n * 1536 }, (_, i) => Math.sin(i * 0.37) * 3);
    const reference = await head.predict(x, n);
    let maxDiff = 0;
    for (let i = 0; i < n; i++) {
      const [score] = await runSingle(model, {
        data: x.subarray(i * 1536, (i + 1) * 1536),
        dims: [1, 16, 96],
      });
      maxDiff = Math.max(maxDiff, Math.abs(score! - reference[i]!));
    }
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
    // Not all the same score: the comparison means something.
    expect(Math.max(...reference) - Math.min(...reference)).toBeGreaterThan(0.1);
    head.dispose();
    await model.release();

    // A changed byte is refused by the runtime loader's checksum.
    const bytes = await fs.readFile(exported.file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    await fs.writeFile(exported.file, bytes);
    await expect(createOnnxLoader({ modelsDir: dir })(exported.entry)).rejects.toMatchObject({
      code: 'E_MODEL_CHECKSUM',
    });
  });
});

describe('an exported ensemble of heads', () => {
  const TINY_B: HeadWeights = {
    ...TINY,
    w1: TINY.w1.map((v, i) => v * (i % 2 === 0 ? -1 : 0.5)),
    b3: f(-0.7),
  };
  const TINY_C: HeadWeights = { ...TINY, w3: f(-1, 1.5, 2), b3: f(0.1) };
  const logit = (p: number): number => Math.log(p / (1 - p));

  it('is sigmoid of the mean of the heads’ logits, computed by hand', async () => {
    const heads = [TINY, TINY_B, TINY_C];
    const bytes = exportHeadOnnx(heads, { inputName: 'in', outputName: 'out', producerVersion: 'test' });
    const session = await ort.InferenceSession.create(bytes);
    for (const x of [
      [0, 0, 0, 0],
      [1, 2, -1, 0.5],
      [-3, 0.25, 4, -2],
    ]) {
      const mean = heads.reduce((s, w) => s + logit(byHand(w, x)), 0) / heads.length;
      const r = await session.run({ in: new ort.Tensor('float32', Float32Array.from(x), [1, 2, 2]) });
      expect((r.out!.data as Float32Array)[0]).toBeCloseTo(1 / (1 + Math.exp(-mean)), 5);
      // Not any one head's score: the average is what runs.
      for (const w of heads) expect(Math.abs(byHand(w, x) - 1 / (1 + Math.exp(-mean)))).toBeGreaterThan(1e-3);
    }
    await session.release();
  });

  it('of one head is the plain head’s file, byte for byte', () => {
    const options = { inputName: 'in', outputName: 'out', producerVersion: 'test' };
    expect(
      Buffer.from(exportHeadOnnx([TINY], options)).equals(Buffer.from(exportHeadOnnx(TINY, options))),
    ).toBe(true);
  });

  it('of full-size heads agrees with HeadEnsemble in TF.js within the export tolerance', async () => {
    const { HeadEnsemble } = await import('../../../firmware-ts/src/wake-train/train/ensemble.js');
    const { VERIFY_TOLERANCE } = await import('../../../firmware-ts/src/wake-train/train/export.js');
    const standardise = {
      mean: Float32Array.from({ length: 96 }, (_, i) => i / 10),
      scale: Float32Array.from({ length: 96 }, (_, i) => 1 / (1 + i / 50)),
    };
    const weights = [7, 8, 9].map((seed) => initHeadWeights(WAKE_HEAD_SHAPE, seed, standardise));
    const exported = await writeHeadOnnx(weights, {
      name: 'test_ensemble',
      phrase: 'hey test',
      outDir: dir,
      packageVersion: '0.0.0',
      licence: 'UNLICENSED',
      sourcePath: 'models/test_ensemble.onnx',
      threshold: 0.9,
      metadata: { heads: '3' },
    });
    const model = await createOnnxLoader({ modelsDir: dir })(exported.entry);
    const ensemble = new HeadEnsemble(weights.map((w) => new TfHead(w, 1e-3)));
    const n = 48;
    const x = Float32Array.from({ length: n * 1536 }, (_, i) => Math.cos(i * 0.29) * 3);
    const reference = await ensemble.predict(x, n);
    const single = await ensemble.heads[0]!.predict(x, n);
    let maxDiff = 0;
    let fromSingle = 0;
    for (let i = 0; i < n; i++) {
      const [score] = await runSingle(model, {
        data: x.subarray(i * 1536, (i + 1) * 1536),
        dims: [1, 16, 96],
      });
      maxDiff = Math.max(maxDiff, Math.abs(score! - reference[i]!));
      fromSingle = Math.max(fromSingle, Math.abs(score! - single[i]!));
    }
    expect(maxDiff).toBeLessThanOrEqual(VERIFY_TOLERANCE);
    expect(fromSingle).toBeGreaterThan(0.01);
    ensemble.dispose();
    await model.release();
  });
});
