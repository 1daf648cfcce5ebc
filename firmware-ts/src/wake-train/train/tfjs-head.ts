/**
 * The head in TF.js: its forward pass, and training steps with gradients written out by hand.
 *
 * Why by hand: @tensorflow/tfjs-core registers no gradients on its own (tfjs-layers or the tfjs
 * meta-package do, as a side effect), and on the wasm backend the gradient TF.js would use for the
 * first layer, x^T @ dy as a transposed MatMul, takes a slow path: 296 ms for a 512-window batch here,
 * against 17 ms for an explicit transpose and 20 ms for the plain MatMul. The backward pass of this
 * network is a dozen lines and the unit tests check it against finite differences.
 *
 * The forward pass uses the same operations, in the same order, as the exported ONNX graph
 * (onnx-head.ts), so the two agree to float32 rounding.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  inputSize,
  LAYER_NORM_EPSILON,
  PARAM_NAMES,
  paramDims,
  type HeadShape,
  type HeadWeights,
  type ParamName,
} from './head.js';

export interface TrainStepOptions {
  /** L2 penalty on the dense kernels, added to their gradients. */
  weightDecay: number;
}

export interface Batch {
  /** `count` windows, each `inputSize(shape)` values. */
  x: Float32Array;
  /** Targets: 1 for the wake phrase, 0 otherwise (or smoothed towards 0.5). */
  y: Float32Array;
  /** Per-window loss weights (class and clip weights); normalised to sum 1 inside. */
  w: Float32Array;
  count: number;
}

let instances = 0;

interface LayerNormOut {
  normalised: tf.Tensor2D;
  std: tf.Tensor2D;
}

/** (h - mean) / sqrt(var + eps) over the last axis, as the ONNX graph computes it. */
function layerNorm(h: tf.Tensor2D): LayerNormOut {
  const centred = tf.sub(h, tf.mean(h, -1, true));
  const variance = tf.mean(tf.mul(centred, centred), -1, true);
  const std = tf.sqrt(tf.add(variance, tf.scalar(LAYER_NORM_EPSILON)));
  return { normalised: tf.div(centred, std), std: std as tf.Tensor2D };
}

/** The gradient through (h - mean) / std, given the normalised output n: (dn - mean(dn) - n mean(dn n)) / std. */
function layerNormBackward(dn: tf.Tensor2D, n: tf.Tensor2D, std: tf.Tensor2D): tf.Tensor2D {
  const a = tf.sub(dn, tf.mean(dn, -1, true));
  const b = tf.mul(n, tf.mean(tf.mul(dn, n), -1, true));
  return tf.div(tf.sub(a, b), std);
}

/** A plain MatMul of a^T and b: TF.js's transposed MatMul is slow on wasm (see the file comment). */
function matMulTransposeA(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(tf.transpose(a), b);
}

export class TfHead {
  readonly shape: HeadShape;
  private readonly vars: Record<ParamName, tf.Variable>;
  private optimizer: tf.AdamOptimizer;
  private readonly prefix: string;
  /** The standardisation, repeated for each of the window's embeddings: [1, 1536]. */
  private readonly inputMean: tf.Tensor2D;
  private readonly inputScale: tf.Tensor2D;
  private readonly standardise: { mean: Float32Array; scale: Float32Array };

  constructor(weights: HeadWeights, learningRate: number) {
    this.shape = weights.shape;
    // Variable names are global to the TF.js engine: each head gets its own.
    this.prefix = `wake_head_${++instances}_`;
    const dims = paramDims(weights.shape);
    const vars: Partial<Record<ParamName, tf.Variable>> = {};
    for (const name of PARAM_NAMES) {
      vars[name] = tf.variable(tf.tensor(weights[name], dims[name]), true, this.prefix + name);
    }
    this.vars = vars as Record<ParamName, tf.Variable>;
    this.optimizer = tf.train.adam(learningRate);
    this.standardise = { mean: weights.inputMean.slice(), scale: weights.inputScale.slice() };
    const tiled = (v: Float32Array): tf.Tensor2D => {
      const out = new Float32Array(inputSize(this.shape));
      for (let i = 0; i < out.length; i++) out[i] = v[i % this.shape.embeddingDim] ?? 0;
      return tf.keep(tf.tensor2d(out, [1, out.length]));
    };
    this.inputMean = tiled(weights.inputMean);
    this.inputScale = tiled(weights.inputScale);
  }

  /** A fresh Adam (new moments) at this learning rate: each training round starts one. */
  resetOptimizer(learningRate: number): void {
    this.optimizer.dispose();
    this.optimizer = tf.train.adam(learningRate);
  }

  private v(name: ParamName): tf.Tensor2D {
    const t = this.vars[name];
    return (t.rank === 2 ? t : tf.reshape(t, [1, -1])) as tf.Tensor2D;
  }

  private forward(x: tf.Tensor2D): {
    logits: tf.Tensor2D;
    n1: tf.Tensor2D;
    s1: tf.Tensor2D;
    l1: tf.Tensor2D;
    r1: tf.Tensor2D;
    n2: tf.Tensor2D;
    s2: tf.Tensor2D;
    l2: tf.Tensor2D;
    r2: tf.Tensor2D;
  } {
    const dense = (input: tf.Tensor2D, w: ParamName, b: ParamName): tf.Tensor2D =>
      tf.add(tf.matMul(input, this.v(w)), this.v(b));
    const affine = (n: tf.Tensor2D, g: ParamName, b: ParamName): tf.Tensor2D =>
      tf.add(tf.mul(n, this.v(g)), this.v(b));
    const { normalised: n1, std: s1 } = layerNorm(dense(x, 'w1', 'b1'));
    const l1 = affine(n1, 'g1', 'be1');
    const r1 = tf.relu(l1);
    const { normalised: n2, std: s2 } = layerNorm(dense(r1, 'w2', 'b2'));
    const l2 = affine(n2, 'g2', 'be2');
    const r2 = tf.relu(l2);
    const logits = dense(r2, 'w3', 'b3');
    return { logits, n1, s1, l1, r1, n2, s2, l2, r2 };
  }

  /** The batch, standardised: (x - mean) * scale, elementwise, as the ONNX graph's first two nodes. */
  private input(x: Float32Array, count: number): tf.Tensor2D {
    const size = inputSize(this.shape);
    if (x.length < count * size)
      throw new Error(`batch of ${count} needs ${count * size} values, got ${x.length}`);
    const raw = tf.tensor2d(x.subarray(0, count * size), [count, size]);
    return tf.mul(tf.sub(raw, this.inputMean), this.inputScale);
  }

  /** Scores (sigmoid outputs) of `count` windows, computed in chunks. */
  predict(x: Float32Array, count: number, chunk = 4096): Promise<Float32Array> {
    return this.run(x, count, chunk, (z) => tf.sigmoid(z));
  }

  /** The last layer's outputs before the sigmoid: what an ensemble of heads averages. */
  logits(x: Float32Array, count: number, chunk = 4096): Promise<Float32Array> {
    return this.run(x, count, chunk, (z) => z);
  }

  private async run(
    x: Float32Array,
    count: number,
    chunk: number,
    last: (logits: tf.Tensor2D) => tf.Tensor2D,
  ): Promise<Float32Array> {
    const size = inputSize(this.shape);
    const out = new Float32Array(count);
    for (let start = 0; start < count; start += chunk) {
      const n = Math.min(chunk, count - start);
      const scores = tf.tidy(() =>
        last(this.forward(this.input(x.subarray(start * size, (start + n) * size), n)).logits),
      );
      out.set(await scores.data(), start);
      scores.dispose();
    }
    return out;
  }

  /**
   * Loss and gradients of the weighted binary cross-entropy (weights normalised to sum 1) on a batch.
   * The caller disposes the gradients.
   */
  gradients(batch: Batch): { loss: tf.Scalar; grads: Record<ParamName, tf.Tensor> } {
    return tf.tidy(() => {
      const x = this.input(batch.x, batch.count);
      const y = tf.tensor2d(batch.y.subarray(0, batch.count), [batch.count, 1]);
      const wRaw = tf.tensor2d(batch.w.subarray(0, batch.count), [batch.count, 1]);
      const w = tf.div(wRaw, tf.sum(wRaw));
      const f = this.forward(x);
      const z = f.logits;
      // Stable BCE with logits: max(z, 0) - z y + log(1 + exp(-|z|)).
      const perWindow = tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
      const loss = tf.sum<tf.Scalar>(tf.mul(w, perWindow));

      const dz = tf.mul<tf.Tensor2D>(w, tf.sub(tf.sigmoid(z), y)); // [B, 1]
      const w3 = this.v('w3');
      const dW3 = matMulTransposeA(f.r2, dz);
      const db3 = tf.sum(dz, 0);
      const dr2 = tf.mul<tf.Tensor2D>(dz, tf.reshape(w3, [1, -1])); // [B,1] x [1,H]: an outer product
      const dl2 = tf.mul<tf.Tensor2D>(dr2, tf.step(f.l2));
      const dg2 = tf.sum(tf.mul(dl2, f.n2), 0);
      const dbe2 = tf.sum(dl2, 0);
      const da2 = layerNormBackward(tf.mul(dl2, this.v('g2')), f.n2, f.s2);
      const dW2 = matMulTransposeA(f.r1, da2);
      const db2 = tf.sum(da2, 0);
      const dr1 = tf.matMul(da2, tf.transpose(this.v('w2')));
      const dl1 = tf.mul<tf.Tensor2D>(dr1, tf.step(f.l1));
      const dg1 = tf.sum(tf.mul(dl1, f.n1), 0);
      const dbe1 = tf.sum(dl1, 0);
      const da1 = layerNormBackward(tf.mul(dl1, this.v('g1')), f.n1, f.s1);
      const dW1 = matMulTransposeA(x, da1);
      const db1 = tf.sum(da1, 0);
      return {
        loss,
        grads: {
          w1: dW1,
          b1: db1,
          g1: dg1,
          be1: dbe1,
          w2: dW2,
          b2: db2,
          g2: dg2,
          be2: dbe2,
          w3: dW3,
          b3: db3,
        },
      };
    });
  }

  /** One Adam step on a batch; returns the batch loss before the step. */
  async trainStep(batch: Batch, options: TrainStepOptions): Promise<number> {
    const { loss, grads } = this.gradients(batch);
    tf.tidy(() => {
      const named: { name: string; tensor: tf.Tensor }[] = PARAM_NAMES.map((name) => {
        const g = grads[name];
        const decayed =
          options.weightDecay > 0 && name.startsWith('w')
            ? tf.add(g, tf.mul(this.vars[name], tf.scalar(options.weightDecay)))
            : g;
        return { name: this.prefix + name, tensor: decayed };
      });
      this.optimizer.applyGradients(named);
    });
    for (const g of Object.values(grads)) g.dispose();
    const value = (await loss.data())[0] ?? Number.NaN;
    loss.dispose();
    return value;
  }

  /** The current weights, copied out of TF.js. */
  async weights(): Promise<HeadWeights> {
    const out: Partial<Record<ParamName, Float32Array>> = {};
    for (const name of PARAM_NAMES) out[name] = Float32Array.from(await this.vars[name].data());
    return {
      shape: this.shape,
      inputMean: this.standardise.mean.slice(),
      inputScale: this.standardise.scale.slice(),
      ...(out as Record<ParamName, Float32Array>),
    };
  }

  dispose(): void {
    for (const v of Object.values(this.vars)) v.dispose();
    this.inputMean.dispose();
    this.inputScale.dispose();
    this.optimizer.dispose();
  }
}
