/**
 * The models manifest (models/manifest.json): for each model its file, the registry package it comes
 * from, sha256, size, licence, inputs and outputs. The runtime checks a file against it before loading,
 * so a truncated copy or a swapped file is refused with its name rather than run.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { GlassesError, messageOf } from '../errors.js';
import { PACKAGE_NAME, PACKAGE_ROOT, PACKAGE_VERSION } from '../paths.js';
import { writeFileAtomic } from '../util/atomic-file.js';

const tensorSpec = z
  .object({
    name: z.string(),
    type: z.string(),
    shape: z.array(z.union([z.number().int(), z.string()])),
  })
  .strict();

const entrySchema = z
  .object({
    name: z.string().regex(/^[a-z0-9_]+$/),
    kind: z.enum([
      'wake-features',
      'wake-head',
      'wake-verifier',
      'vad',
      'detector',
      'detector-weights',
      'ocr-det',
      'ocr-rec',
      'ocr-dict',
    ]),
    /** onnx by default; a TF.js graph model is its model.json, its weights are a `detector-weights` entry. */
    format: z.enum(['onnx', 'tfjs-graph', 'tfjs-weights', 'text']).optional(),
    file: z.string().min(1),
    /** For wake heads and their verifiers: the words said. */
    phrase: z.string().optional(),
    /**
     * For a wake verifier (the detector's second stage): the wake head whose detections it judges.
     * The head's threshold is then its first stage's, set to find nearly every wearer.
     */
    verifies: z.string().optional(),
    /**
     * For wake heads and verifiers we train: the score at which it fires, chosen on held-out voices
     * by its training (config `wake.thresholds` still overrides the last stage's; without either,
     * `wake.scoreThreshold`).
     */
    threshold: z.number().min(0).max(1).optional(),
    source: z
      .object({
        package: z.string().min(1),
        version: z.string().min(1),
        path: z.string().min(1),
      })
      .strict(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    bytes: z.number().int().positive(),
    licence: z.string().min(1),
    inputs: z.array(tensorSpec),
    outputs: z.array(tensorSpec),
  })
  .strict();

const manifestSchema = z.object({ models: z.array(entrySchema) }).strict();

export type ModelEntry = z.infer<typeof entrySchema>;
export type TensorSpec = z.infer<typeof tensorSpec>;
export type Manifest = z.infer<typeof manifestSchema>;

export const MANIFEST_FILE = 'manifest.json';

/** Writes a models manifest into `modelsDir`, atomically, in the one format all its writers use. */
export async function writeManifest(modelsDir: string, models: readonly ModelEntry[]): Promise<void> {
  // Shared: every user of the checkout and the service on the board read it.
  await writeFileAtomic(join(modelsDir, MANIFEST_FILE), `${JSON.stringify({ models }, null, 2)}\n`, {
    mode: 0o644,
  });
}

export async function loadManifest(modelsDir: string): Promise<Manifest> {
  const file = join(modelsDir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new GlassesError(
      'E_MODEL_MANIFEST',
      `models manifest ${file}: cannot read it (${messageOf(err)})`,
      {
        details: { file },
        cause: err,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new GlassesError(
      'E_MODEL_MANIFEST',
      `models manifest ${file}: not valid JSON (${messageOf(err)})`,
      {
        details: { file },
      },
    );
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') ?? '';
    throw new GlassesError(
      'E_MODEL_MANIFEST',
      `models manifest ${file}: ${where}: ${issue?.message ?? 'invalid'}`,
      {
        details: { file, field: where },
      },
    );
  }
  return parsed.data;
}

export function findModel(manifest: Manifest, name: string, kind?: ModelEntry['kind']): ModelEntry {
  const entry = manifest.models.find((m) => m.name === name && (kind === undefined || m.kind === kind));
  if (entry === undefined) {
    const known = manifest.models
      .filter((m) => kind === undefined || m.kind === kind)
      .map((m) => m.name)
      .join(', ');
    throw new GlassesError(
      'E_MODEL_UNKNOWN',
      `no ${kind ?? 'model'} named "${name}" in the models manifest (known: ${known})`,
      {
        details: { model: name },
      },
    );
  }
  return entry;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The source package of the models this project trains itself (`glasses train-wake`), committed in models/. */
export const OWN_MODEL_PACKAGE = PACKAGE_NAME;

/** Whether this project trained the model (committed in models/, not fetched from a package). */
export function isOwnModel(entry: Pick<ModelEntry, 'source'>): boolean {
  return entry.source.package === OWN_MODEL_PACKAGE;
}

/**
 * How to get a model file back into `modelsDir`. git and `npm run models` only restore the models/
 * folder of a source checkout; a models.dir elsewhere (a board's bundle, a shared folder) is given
 * the file by copying it there.
 */
function restoreHint(entry: ModelEntry, modelsDir: string): string {
  const checkoutModels = join(PACKAGE_ROOT, 'models');
  const inCheckout = resolve(modelsDir) === checkoutModels && existsSync(join(PACKAGE_ROOT, '.git'));
  const train = `npx glasses train-wake --phrase "${entry.phrase ?? entry.name}" --name ${entry.name}`;
  if (isOwnModel(entry)) {
    return inCheckout
      ? `it is trained by this project and committed: restore it with \`git checkout -- ${entry.source.path}\` or train it again with \`${train}\``
      : `it is trained by this project: copy ${entry.source.path} of version ${PACKAGE_VERSION} (in a source checkout or a bundle) into ${modelsDir}, or train it again in a checkout (\`${train}\`) and copy it from there`;
  }
  return inCheckout
    ? `run \`npm run models\` to bring it from ${entry.source.package}@${entry.source.version}`
    : `it comes from ${entry.source.package}@${entry.source.version} (${entry.source.path}): run \`npm run models\` in a source checkout of version ${PACKAGE_VERSION} and copy models/${entry.file} into ${modelsDir}`;
}

/** Checks a model file against its manifest entry and returns its path. */
export async function verifiedModelPath(modelsDir: string, entry: ModelEntry): Promise<string> {
  const file = join(modelsDir, entry.file);
  let size: number;
  try {
    size = (await fs.stat(file)).size;
  } catch (err) {
    throw new GlassesError(
      'E_MODEL_MISSING',
      `model file ${file} (${entry.name}) is missing; ${restoreHint(entry, modelsDir)}`,
      { details: { file, model: entry.name }, cause: err },
    );
  }
  if (size !== entry.bytes) {
    throw new GlassesError(
      'E_MODEL_CHECKSUM',
      `model file ${file} (${entry.name}) is ${size} bytes, the manifest says ${entry.bytes}: truncated or replaced; ${restoreHint(entry, modelsDir)}`,
      { details: { file, model: entry.name } },
    );
  }
  const actual = await sha256File(file);
  if (actual !== entry.sha256) {
    throw new GlassesError(
      'E_MODEL_CHECKSUM',
      `model file ${file} (${entry.name}) has sha256 ${actual}, the manifest says ${entry.sha256}; ${restoreHint(entry, modelsDir)}`,
      { details: { file, model: entry.name } },
    );
  }
  return file;
}
