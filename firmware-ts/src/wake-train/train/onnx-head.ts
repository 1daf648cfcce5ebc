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
  const nodes: OnnxNode[] = [
    // Standardise each embedding value (broadcast over the 16 embeddings).
    { opType: 'Sub', inputs: [inputName, 'input_mean'], outputs: ['in_centred'] },
    { opType: 'Mul', inputs: ['in_centred', 'input_scale'], outputs: ['in_scaled'] },
    // [1, 16, 96] -> [1, 1536], row-major: embedding by embedding, as the trainer flattens windows.
    { opType: 'Flatten', inputs: ['in_scaled'], outputs: ['flat'], attributes: [{ name: 'axis', int: 1 }] },
  ];
  const dense = (input: string, layer: number): string => {
    nodes.push(
      { opType: 'MatMul', inputs: [input, `w${layer}`], outputs: [`mm${layer}`] },
      { opType: 'Add', inputs: [`mm${layer}`, `b${layer}`], outputs: [`a${layer}`] },
    );
    return `a${layer}`;
  };
  const normRelu = (input: string, layer: number): string => {
    const p = `ln${layer}_`;
    nodes.push(
      {
        opType: 'ReduceMean',
        inputs: [input],
        outputs: [`${p}mean`],
        attributes: [
          { name: 'axes', ints: [-1] },
          { name: 'keepdims', int: 1 },
        ],
      },
      { opType: 'Sub', inputs: [input, `${p}mean`], outputs: [`${p}centred`] },
      { opType: 'Mul', inputs: [`${p}centred`, `${p}centred`], outputs: [`${p}sq`] },
      {
        opType: 'ReduceMean',
        inputs: [`${p}sq`],
        outputs: [`${p}var`],
        attributes: [
          { name: 'axes', ints: [-1] },
          { name: 'keepdims', int: 1 },
        ],
      },
      { opType: 'Add', inputs: [`${p}var`, 'epsilon'], outputs: [`${p}var_eps`] },
      { opType: 'Sqrt', inputs: [`${p}var_eps`], outputs: [`${p}std`] },
      { opType: 'Div', inputs: [`${p}centred`, `${p}std`], outputs: [`${p}norm`] },
      { opType: 'Mul', inputs: [`${p}norm`, `g${layer}`], outputs: [`${p}scaled`] },
      { opType: 'Add', inputs: [`${p}scaled`, `be${layer}`], outputs: [`${p}out`] },
      { opType: 'Relu', inputs: [`${p}out`], outputs: [`r${layer}`] },
    );
    return `r${layer}`;
  };
  const r1 = normRelu(dense('flat', 1), 1);
  const r2 = normRelu(dense(r1, 2), 2);
  const logit = dense(r2, 3);
  nodes.push({ opType: 'Sigmoid', inputs: [logit], outputs: [outputName] });
  return nodes.map((n, i) => ({ ...n, name: `${n.opType}_${i}` }));
}

/** The .onnx file bytes of a head. */
export function exportHeadOnnx(weights: HeadWeights, options: OnnxHeadOptions): Uint8Array {
  const { windowEmbeddings, embeddingDim, hidden } = weights.shape;
  const t = (name: string, dims: number[], data: Float32Array): OnnxTensor => ({ name, dims, data });
  const initializers: OnnxTensor[] = [
    t('input_mean', [embeddingDim], weights.inputMean),
    t('input_scale', [embeddingDim], weights.inputScale),
    t('w1', [inputSize(weights.shape), hidden], weights.w1),
    t('b1', [hidden], weights.b1),
    t('g1', [hidden], weights.g1),
    t('be1', [hidden], weights.be1),
    t('w2', [hidden, hidden], weights.w2),
    t('b2', [hidden], weights.b2),
    t('g2', [hidden], weights.g2),
    t('be2', [hidden], weights.be2),
    t('w3', [hidden, 1], weights.w3),
    t('b3', [1], weights.b3),
    t('epsilon', [], Float32Array.of(LAYER_NORM_EPSILON)),
  ];
  return encodeOnnxModel({
    irVersion: ONNX_IR_VERSION,
    opsetVersion: ONNX_OPSET,
    producerName: 'glasses-runtime train-wake',
    producerVersion: options.producerVersion,
    docString:
      'Wake head: standardise -> flatten(16x96) -> dense 64 -> layer norm -> relu -> dense 64 -> layer norm -> relu -> dense 1 -> sigmoid',
    ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
    graph: {
      name: 'wake_head',
      nodes: headOnnxNodes(options.inputName, options.outputName),
      initializers,
      inputs: [{ name: options.inputName, shape: [1, windowEmbeddings, embeddingDim] }],
      outputs: [{ name: options.outputName, shape: [1, 1] }],
    },
  });
}
