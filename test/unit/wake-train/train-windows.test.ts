/**
 * The trainer's windows are the detector's: after every frame of a clip, the window stored for that
 * frame is exactly what WakeDetector hands its head, warm-up included.
 */
import { describe, expect, it } from 'vitest';
import { splitChunks } from '../../../firmware-ts/src/audio/chunk.js';
import type { Tensor } from '../../../firmware-ts/src/inference/model.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import { WakeDetector } from '../../../firmware-ts/src/wake/detector.js';
import { FRAME_MS, FRAME_SAMPLES, WakeFeatures } from '../../../firmware-ts/src/wake/features.js';
import {
  buildStore,
  clipEmbeddings,
  FIRST_SCORED_FRAME,
  historyRows,
  scoredFrameCount,
  windowAtRow,
  windowRow,
} from '../../../firmware-ts/src/wake-train/train/embeddings.js';
import { positiveFrames, POSITIVE_AFTER_END_MS } from '../../../firmware-ts/src/wake-train/train/labels.js';
import { FakeModel } from '../../helpers/fake-model.js';

/**
 * Feature models whose outputs are functions of their inputs alone (not of call order), so two
 * WakeFeatures instances fed the same audio compute the same embeddings.
 */
function inputDrivenModels(): { melspectrogram: FakeModel; embedding: FakeModel } {
  const data = (feeds: Readonly<Record<string, Tensor>>, name: string): Float32Array => {
    const t = feeds[name];
    if (t === undefined || !(t.data instanceof Float32Array)) throw new Error(`no float input ${name}`);
    return t.data;
  };
  return {
    melspectrogram: new FakeModel('mel', ['input'], ['output'], (_call, feeds) => {
      const x = data(feeds, 'input');
      return { output: Float32Array.from({ length: 8 * 32 }, (_, i) => (x[(i * 7) % x.length] ?? 0) / 1000) };
    }),
    embedding: new FakeModel('emb', ['input_1'], ['conv2d_19'], (_call, feeds) => {
      const mel = data(feeds, 'input_1');
      return {
        conv2d_19: Float32Array.from(
          { length: 96 },
          (_, d) => (mel[(d * 37) % mel.length] ?? 0) + 0.5 * (mel[(d * 91 + 5) % mel.length] ?? 0) + d,
        ),
      };
    }),
  };
}

/** A clip of 40 frames and a partial one, with content that differs frame to frame. */
function clip(): Int16Array {
  const pcm = new Int16Array(40 * FRAME_SAMPLES + 300);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin(i / 17) * Math.cos(i / 2900));
  return pcm;
}

describe('embedding store windows', () => {
  it('equal the windows WakeDetector gives its head, frame by frame, for any chunk size', async () => {
    const pcm = clip();
    const mine = new WakeFeatures(inputDrivenModels());
    await mine.warmUp();
    const history = historyRows(mine);
    const store = buildStore(history, [new Float32Array(96 * 3), await clipEmbeddings(mine, pcm)]);
    const span = store.clips[1]!;
    expect(span.frames).toBe(40); // the partial last frame is never processed

    for (const chunk of [1024, 1280, 3000]) {
      const seen: Float32Array[] = [];
      const head = new FakeModel('head', ['x'], ['y'], (_call, feeds) => {
        seen.push(Float32Array.from(feeds.x!.data as Float32Array));
        return { y: Float32Array.of(0) };
      });
      const features = new WakeFeatures(inputDrivenModels());
      await features.warmUp();
      const detector = new WakeDetector({
        features,
        heads: [{ phrase: 'p', model: head, threshold: 0.5 }],
        refractoryMs: 2000,
        log: silentLogger(),
      });
      for (const c of splitChunks(pcm, chunk)) await detector.push(c);
      // The detector scores frames 6..40; the head saw them in order.
      expect(seen).toHaveLength(scoredFrameCount(40));
      seen.forEach((window, i) => {
        const frame = FIRST_SCORED_FRAME + i;
        expect(windowAtRow(store, windowRow(span, frame)), `chunk ${chunk}, frame ${frame}`).toEqual(window);
      });
    }
  });

  it('puts the warmed-up history in front of every clip', async () => {
    const features = new WakeFeatures(inputDrivenModels());
    await features.warmUp();
    const history = historyRows(features);
    const a = await clipEmbeddings(features, clip().subarray(0, 3 * FRAME_SAMPLES));
    const b = await clipEmbeddings(features, clip().subarray(0, 2 * FRAME_SAMPLES));
    const store = buildStore(history, [a, b]);
    expect(store.clips).toEqual([
      { row: 0, frames: 3 },
      { row: 18, frames: 2 },
    ]);
    // Frame 1's window: 15 history rows, then the clip's first embedding.
    const w = windowAtRow(store, windowRow(store.clips[1]!, 1));
    expect(w.subarray(0, 15 * 96)).toEqual(history);
    expect(w.subarray(15 * 96)).toEqual(b.subarray(0, 96));
    expect(() => windowRow(store.clips[1]!, 3)).toThrow(/outside/);
  });
});

describe('positive windows', () => {
  it('are the frames that end from the phrase end to 480 ms after it, never in the warm-up', () => {
    expect(POSITIVE_AFTER_END_MS).toBe(480);
    // Phrase ends at 1.0 s: frames ending at 1040..1440 ms are frames 13..18.
    expect(positiveFrames(1.0, 40)).toEqual([13, 14, 15, 16, 17, 18]);
    // Exactly on a frame end: that frame is the first positive (frame 10 ends at 800 ms).
    expect(positiveFrames(0.8, 40)).toEqual([10, 11, 12, 13, 14, 15, 16]);
    // Clipped by the end of the clip.
    expect(positiveFrames(1.0, 15)).toEqual([13, 14, 15]);
    // A phrase ending in the warm-up keeps only frames the detector scores.
    expect(positiveFrames(0.2, 40)).toEqual([6, 7, 8]);
    expect(Math.max(...positiveFrames(2.345, 100)) * FRAME_MS).toBeLessThanOrEqual(2345 + 480);
  });
});
