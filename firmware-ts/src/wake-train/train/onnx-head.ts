/**
 * The head as an ONNX graph (opset 13), with the inputs and outputs of openWakeWord's pretrained
 * heads: one window [1, 16, 96] float32 in, one score [1, 1] out, so the runtime loads it unchanged.
 *
 * Layer norm is written out in primitive operators (ReduceMean, Sub, Mul, Sqrt, Div) rather than as
 * LayerNormalization (opset 17): the same operations as the TF.js forward pass, so the two agree to
 * float32 rounding, and any onnxruntime since 1.8 runs it.
 */
import { encodeOnnxModel, type OnnxNode, type OnnxTensor } from './onnx-proto.js';
import { inputSize, LAYER_NORM_EPSILON, type HeadWeights } from './head.js';

/** What the exported file is named inside, and where it came from. */
export interface OnnxHeadOptions {
  /** Input tensor name; openWakeWord's hey_jarvis head calls it "x.1". */
  inputName: string;
  /** Output tensor name; openWakeWord's hey_jarvis head calls it "53". */
  outputName: string;
  producerVersion: string;
  /** Stored in the model's metadata (phrase, threshold, seed...). */
  metadata?: Readonly<Record<string, string>>;
}

/** The names of openWakeWord's hey_jarvis_v0.1.onnx, the head the runtime has always loaded. */
export const PRETRAINED_IO_NAMES = { inputName: 'x.1', outputName: '53' } as const;

export const ONNX_OPSET = 13;
/** onnx.proto IR_VERSION_2021_7_30: the IR that opset 13 models are written with. */
const ONNX_IR_VERSION = 8;

export function headOnnxNodes(inputName: string, outputName: string): OnnxNode[] {
  const { nodes, logit } = headLogitNodes(inputName, '');
  nodes.push({ opType: 'Sigmoid', inputs: [logit], outputs: [outputName] });
  return named(nodes);
}

/**
 * K heads side by side on the same input, each with its own weights (initialisers `h<k>_w1`...),
 * their logits summed (in head order), times 1/K, then the sigmoid: ensemble.ts computes the same.
 */
export function ensembleOnnxNodes(inputName: string, outputName: string, heads: number): OnnxNode[] {
  const nodes: OnnxNode[] = [];
  const logits: string[] = [];
  for (let k = 0; k < heads; k++) {
    const head = headLogitNodes(inputName, ensemblePrefix(k));
    nodes.push(...head.nodes);
    logits.push(head.logit);
  }
  nodes.push(
    { opType: 'Sum', inputs: logits, outputs: ['logit_sum'] },
    { opType: 'Mul', inputs: ['logit_sum', 'ensemble_scale'], outputs: ['logit_mean'] },
    { opType: 'Sigmoid', inputs: ['logit_mean'], outputs: [outputName] },
  );
  return named(nodes);
}

export const ensemblePrefix = (k: number): string => `h${k}_`;

const named = (nodes: OnnxNode[]): OnnxNode[] => nodes.map((n, i) => ({ ...n, name: `${n.opType}_${i}` }));

/** One head up to its logit; every value and weight name starts with `p`. */
function headLogitNodes(inputName: string, p: string): { nodes: OnnxNode[]; logit: string } {
  const nodes: OnnxNode[] = [
    // Standardise each embedding value (broadcast over the 16 embeddings).
    { opType: 'Sub', inputs: [inputName, `${p}input_mean`], outputs: [`${p}in_centred`] },
    { opType: 'Mul', inputs: [`${p}in_centred`, `${p}input_scale`], outputs: [`${p}in_scaled`] },
    // [1, 16, 96] -> [1, 1536], row-major: embedding by embedding, as the trainer flattens windows.
    {
      opType: 'Flatten',
      inputs: [`${p}in_scaled`],
      outputs: [`${p}flat`],
      attributes: [{ name: 'axis', int: 1 }],
    },
  ];
  const dense = (input: string, layer: number): string => {
    nodes.push(
      { opType: 'MatMul', inputs: [input, `${p}w${layer}`], outputs: [`${p}mm${layer}`] },
      { opType: 'Add', inputs: [`${p}mm${layer}`, `${p}b${layer}`], outputs: [`${p}a${layer}`] },
    );
    return `${p}a${layer}`;
  };
  const normRelu = (input: string, layer: number): string => {
    const q = `${p}ln${layer}_`;
    nodes.push(
      {
        opType: 'ReduceMean',
        inputs: [input],
        outputs: [`${q}mean`],
        attributes: [
          { name: 'axes', ints: [-1] },
          { name: 'keepdims', int: 1 },
        ],
      },
      { opType: 'Sub', inputs: [input, `${q}mean`], outputs: [`${q}centred`] },
      { opType: 'Mul', inputs: [`${q}centred`, `${q}centred`], outputs: [`${q}sq`] },
      {
        opType: 'ReduceMean',
        inputs: [`${q}sq`],
        outputs: [`${q}var`],
        attributes: [
          { name: 'axes', ints: [-1] },
          { name: 'keepdims', int: 1 },
        ],
      },
      { opType: 'Add', inputs: [`${q}var`, 'epsilon'], outputs: [`${q}var_eps`] },
      { opType: 'Sqrt', inputs: [`${q}var_eps`], outputs: [`${q}std`] },
      { opType: 'Div', inputs: [`${q}centred`, `${q}std`], outputs: [`${q}norm`] },
      { opType: 'Mul', inputs: [`${q}norm`, `${p}g${layer}`], outputs: [`${q}scaled`] },
      { opType: 'Add', inputs: [`${q}scaled`, `${p}be${layer}`], outputs: [`${q}out`] },
      { opType: 'Relu', inputs: [`${q}out`], outputs: [`${p}r${layer}`] },
    );
    return `${p}r${layer}`;
  };
  const r1 = normRelu(dense(`${p}flat`, 1), 1);
  const r2 = normRelu(dense(r1, 2), 2);
  return { nodes, logit: dense(r2, 3) };
}

/**
 * The .onnx file bytes of a head, or of heads averaged (ensemble.ts); one head gives the plain
 * head's graph, so a single head's file is the same whether or not it came through an ensemble.
 */
export function exportHeadOnnx(
  weights: HeadWeights | readonly HeadWeights[],
  options: OnnxHeadOptions,
): Uint8Array {
  const all: readonly HeadWeights[] = Array.isArray(weights) ? weights : [weights as HeadWeights];
  const first = all[0];
  if (first === undefined) throw new Error('no head to export');
  const { windowEmbeddings, embeddingDim } = first.shape;
  for (const w of all) {
    if (w.shape.windowEmbeddings !== windowEmbeddings || w.shape.embeddingDim !== embeddingDim)
      throw new Error('the heads of an ensemble must take the same window');
  }
  const t = (name: string, dims: number[], data: Float32Array): OnnxTensor => ({ name, dims, data });
  const single = all.length === 1;
  const initializers: OnnxTensor[] = [];
  all.forEach((w, k) => {
    const p = single ? '' : ensemblePrefix(k);
    const hidden = w.shape.hidden;
    initializers.push(
      t(`${p}input_mean`, [embeddingDim], w.inputMean),
      t(`${p}input_scale`, [embeddingDim], w.inputScale),
      t(`${p}w1`, [inputSize(w.shape), hidden], w.w1),
      t(`${p}b1`, [hidden], w.b1),
      t(`${p}g1`, [hidden], w.g1),
      t(`${p}be1`, [hidden], w.be1),
      t(`${p}w2`, [hidden, hidden], w.w2),
      t(`${p}b2`, [hidden], w.b2),
      t(`${p}g2`, [hidden], w.g2),
      t(`${p}be2`, [hidden], w.be2),
      t(`${p}w3`, [hidden, 1], w.w3),
      t(`${p}b3`, [1], w.b3),
    );
  });
  initializers.push(t('epsilon', [], Float32Array.of(LAYER_NORM_EPSILON)));
  if (!single) initializers.push(t('ensemble_scale', [], Float32Array.of(1 / all.length)));
  const layers =
    'standardise -> flatten(16x96) -> dense 64 -> layer norm -> relu -> dense 64 -> layer norm -> relu -> dense 1';
  return encodeOnnxModel({
    irVersion: ONNX_IR_VERSION,
    opsetVersion: ONNX_OPSET,
    producerName: 'glasses-runtime train-wake',
    producerVersion: options.producerVersion,
    docString: single
      ? `Wake head: ${layers} -> sigmoid`
      : `Wake heads, ${all.length} side by side: each ${layers}; the mean of their logits -> sigmoid`,
    ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
    graph: {
      name: 'wake_head',
      nodes: single
        ? headOnnxNodes(options.inputName, options.outputName)
        : ensembleOnnxNodes(options.inputName, options.outputName, all.length),
      initializers,
      inputs: [{ name: options.inputName, shape: [1, windowEmbeddings, embeddingDim] }],
      outputs: [{ name: options.outputName, shape: [1, 1] }],
    },
  });
}
