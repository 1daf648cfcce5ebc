/**
 * A worker thread that computes clip embeddings for feature-cache.ts: onnxruntime-node runs one
 * session's calls one after another, so using both cores takes a second thread with sessions of its
 * own. The worker is a composition root of its own: it opens the two feature models with the
 * runtime's ONNX loader (which checks them against their manifest entries) from the description
 * it is started with, and streams each clip it is sent through the runtime's own WakeFeatures.
 *
 * Messages in: `{ clip, file }`; out: `{ clip, embeddings }` (transferred) or `{ clip, error }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readWavAs16kMono } from '../../audio/wav.js';
import { messageOf } from '../../errors.js';
import { createOnnxLoader } from '../../inference/onnx.js';
import type { ModelEntry } from '../../models/manifest.js';
import { WakeFeatures } from '../../wake/features.js';
import { clipEmbeddings } from './embeddings.js';

export interface FeatureWorkerData {
  modelsDir: string;
  melspectrogram: ModelEntry;
  embedding: ModelEntry;
}

export type FeatureWorkerRequest = { clip: number; file: string } | { stop: true };
export type FeatureWorkerReply =
  { ready: true } | { clip: number; embeddings: Float32Array } | { clip: number; error: string };

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('feature-worker runs as a worker thread');
  const data = workerData as FeatureWorkerData;
  const load = createOnnxLoader({ modelsDir: data.modelsDir });
  const models = { melspectrogram: await load(data.melspectrogram), embedding: await load(data.embedding) };
  const features = new WakeFeatures(models);
  await features.warmUp();
  // One clip at a time, in the order sent: the main thread keeps each worker one clip ahead.
  let queue = Promise.resolve();
  port.on('message', (msg: FeatureWorkerRequest) => {
    queue = queue.then(async () => {
      if ('stop' in msg) {
        await models.melspectrogram.release();
        await models.embedding.release();
        port.close();
        return;
      }
      try {
        const audio = await readWavAs16kMono(msg.file);
        const embeddings = await clipEmbeddings(features, audio.pcm);
        port.postMessage({ clip: msg.clip, embeddings } satisfies FeatureWorkerReply, [
          embeddings.buffer as ArrayBuffer,
        ]);
      } catch (err) {
        port.postMessage({ clip: msg.clip, error: messageOf(err) } satisfies FeatureWorkerReply);
      }
    });
  });
  port.postMessage({ ready: true } satisfies FeatureWorkerReply);
}

void main().catch((err: unknown) => {
  parentPort?.postMessage({ clip: -1, error: messageOf(err) } satisfies FeatureWorkerReply);
});
