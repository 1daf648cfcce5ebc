import { loadConfig } from '../../firmware-ts/src/config.js';
import { silentLogger } from '../../firmware-ts/src/log.js';
import { createWakeEngine, type WakeEngine, type WakeEngineOptions } from '../../firmware-ts/src/main.js';
import { splitChunks } from '../../firmware-ts/src/audio/chunk.js';
import { readWavAs16kMono } from '../../firmware-ts/src/audio/wav.js';
import type { Detection } from '../../firmware-ts/src/wake/detector.js';

/** The real engine (onnxruntime sessions over the models in models/), default config. */
export function realEngine(options: WakeEngineOptions = {}): Promise<WakeEngine> {
  return createWakeEngine(loadConfig({ env: {} }), silentLogger(), options);
}

export async function detectFile(
  engine: WakeEngine,
  file: string,
  chunkSamples = 1280,
): Promise<Detection[]> {
  engine.detector.reset();
  const { pcm } = await readWavAs16kMono(file);
  const out: Detection[] = [];
  for (const c of splitChunks(pcm, chunkSamples)) out.push(...(await engine.detector.push(c)));
  return out;
}
