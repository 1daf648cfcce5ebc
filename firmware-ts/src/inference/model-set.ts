/** The models a process has open, loaded once each (checksum first) and shared by their users. */
import type { FrozenConfig } from '../config.js';
import { findModel, loadManifest, type Manifest, type ModelEntry } from '../models/manifest.js';
import { fromRoot } from '../paths.js';
import type { InferenceModel } from './model.js';
import { createOnnxLoader } from './onnx.js';

export type ModelKind = 'wake-features' | 'wake-head' | 'wake-verifier' | 'vad' | 'ocr-det' | 'ocr-rec';

/** The models a process has open: each loaded once (checksum first) and shared by its users. */
export interface ModelSet {
  readonly dir: string;
  readonly manifest: Manifest;
  get(name: string, kind: ModelKind): Promise<InferenceModel>;
  /** The words a wake head listens for, from the manifest. */
  phraseWords(name: string): string | undefined;
  close(): Promise<void>;
}

/** The threshold a wake head's training chose (our own heads carry one in the manifest). */
export function trainedThreshold(manifest: Manifest, phrase: string): number | undefined {
  return manifest.models.find((m) => m.name === phrase && m.kind === 'wake-head')?.threshold;
}

/** The second-stage verifier trained for a wake head, if there is one (wake-train/train/verifier.ts). */
export function verifierOf(manifest: Manifest, phrase: string): ModelEntry | undefined {
  return manifest.models.find((m) => m.kind === 'wake-verifier' && m.verifies === phrase);
}

export async function openModels(config: FrozenConfig): Promise<ModelSet> {
  const modelsDir = fromRoot(config.models.dir);
  const manifest = await loadManifest(modelsDir);
  // OCR runs while the wearer waits for an answer: it may take both cores (recognition is ~30 % faster
  // on two threads here); the wake models keep one thread each so listening never starves.
  const ocr = { intraOpThreads: config.vision.ocrThreads, memArena: false };
  const load = createOnnxLoader({ modelsDir, perKind: { 'ocr-det': ocr, 'ocr-rec': ocr } });
  const loaded = new Map<string, Promise<InferenceModel>>();
  return {
    dir: modelsDir,
    manifest,
    get(name, kind) {
      let model = loaded.get(name);
      if (model === undefined) {
        model = Promise.resolve().then(() => load(findModel(manifest, name, kind)));
        loaded.set(name, model);
      }
      return model;
    },
    phraseWords(name) {
      return manifest.models.find((m) => m.name === name && m.kind === 'wake-head')?.phrase;
    },
    async close() {
      const models = await Promise.allSettled(loaded.values());
      await Promise.all(
        models.map((m) => (m.status === 'fulfilled' ? m.value.release() : Promise.resolve())),
      );
      loaded.clear();
    },
  };
}
