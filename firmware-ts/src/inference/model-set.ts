/** The models a process has open, loaded once each (checksum first) and shared by their users. */
import { findModel, loadManifest, type Manifest, type ModelEntry } from '../models/manifest.js';
import type { InferenceModel, ModelLoader } from './model.js';

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

/**
 * The models of the manifest in `modelsDir`, each loaded by `load` on first use: the composition root
 * (main.ts openModels) gives it the onnxruntime loader.
 */
export async function openModelSet(modelsDir: string, load: ModelLoader): Promise<ModelSet> {
  const manifest = await loadManifest(modelsDir);
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
