/**
 * The OCR peer for `glasses bench vision`: `@gutenye/ocr-node` (a devDependency), the same PP-OCRv4
 * models on onnxruntime-node with opencv.js for the image work. It reads a file path, so its time
 * includes decoding the image.
 */
import { performance } from 'node:perf_hooks';
import { median } from './bench-audio.js';

interface GutenyeLine {
  text: string;
  mean: number;
}

interface GutenyeOcr {
  detect(image: string): Promise<GutenyeLine[]>;
}

export interface PeerOcrResult {
  /** Per image, ms for one read after a warm-up (median over passes). */
  msPerImage: number[];
  texts: string[][];
}

export async function runPeerOcr(images: readonly string[], passes: number): Promise<PeerOcrResult> {
  const mod = (await import('@gutenye/ocr-node')) as unknown as {
    default: { create(): Promise<GutenyeOcr> };
  };
  const ocr = await mod.default.create();
  const texts: string[][] = [];
  for (const image of images) texts.push((await ocr.detect(image)).map((l) => l.text));
  const times: number[][] = images.map(() => []);
  for (let p = 0; p < passes; p++) {
    for (const [i, image] of images.entries()) {
      const t0 = performance.now();
      await ocr.detect(image);
      times[i]?.push(performance.now() - t0);
    }
  }
  return { msPerImage: times.map(median), texts };
}
