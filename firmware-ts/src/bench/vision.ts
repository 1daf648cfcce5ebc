/**
 * `glasses bench vision`: our detector and OCR beside their peers, on the same real photos, in one
 * run. Each side runs in its own child process (so resident memory is its own): ours (detector and
 * OCR loaded together, as on the glasses), `@vladmandic/human` (object module, the same TF.js
 * weights on the same wasm backend) and `@gutenye/ocr-node` (the same PP-OCRv4 models). Figures are
 * medians over passes after a warm-up pass.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config.js';
import { GlassesError } from '../errors.js';
import { silentLogger } from '../log.js';
import { createVisionEngine } from '../main.js';
import { SAMPLES_DIR } from '../paths.js';
import { decodeImage } from '../vision/frame.js';
import { median } from './bench-audio.js';
import { runBenchSide } from './side.js';
import { parse, round } from '../commands/command.js';

const OPENCV_DATA = '/usr/share/doc/opencv-doc/examples/data';
/** Real photographs with objects (Debian's opencv-doc, installed by scripts/setup.sh). */
const OBJECT_PHOTOS = ['fruits.jpg', 'messi5.jpg', 'apple.jpg', 'basketball1.png', 'stuff.jpg'];
/** Real photographs and a label with text. */
const TEXT_PHOTOS = ['imageTextN.png', 'imageTextR.png', 'licenseplate_motion.jpg'];

export type Model = 'centernet' | 'nanodet';

interface Images {
  objects: string[];
  text: string[];
}

/**
 * `--quick`, a smoke run of the real code whose figures are not for comparing: one photo with objects
 * and one label with text, each known to be found alike by ours and the peers.
 */
const QUICK_OBJECT_PHOTOS = ['messi5.jpg'];
const QUICK_TEXT_PHOTOS: string[] = [];

function benchImages(quick = false): Images {
  if (!existsSync(OPENCV_DATA)) {
    throw new GlassesError(
      'E_IMAGE_MISSING',
      `bench vision: the photos in ${OPENCV_DATA} are missing; apt-get install opencv-doc (scripts/setup.sh does)`,
      { details: { file: OPENCV_DATA } },
    );
  }
  return {
    objects: (quick ? QUICK_OBJECT_PHOTOS : OBJECT_PHOTOS).map((f) => join(OPENCV_DATA, f)),
    text: [
      ...(quick ? QUICK_TEXT_PHOTOS : TEXT_PHOTOS).map((f) => join(OPENCV_DATA, f)),
      join(SAMPLES_DIR, 'camera', '2-price-tag.jpg'),
    ],
  };
}

export interface Stages {
  decodeMs: number;
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
  totalMs: number;
}

export interface OursResult {
  side: 'ours';
  backend: string;
  detector: Stages;
  ocr: Stages;
  rssMb: number;
  labels: string[][];
  texts: string[][];
}

export interface PeerResult {
  side: 'peer-human' | 'peer-ocr' | 'ours-ocr';
  name: string;
  /** Per image median, then the median over images. */
  msPerImage: number;
  rssMb: number;
  labels?: string[][];
  texts?: string[][];
}

export type SideResult = OursResult | PeerResult;

function stageMedians(rows: Omit<Stages, 'totalMs'>[]): Stages {
  const m = (k: keyof Omit<Stages, 'totalMs'>): number => median(rows.map((r) => r[k]));
  const s = {
    decodeMs: m('decodeMs'),
    preprocessMs: m('preprocessMs'),
    inferenceMs: m('inferenceMs'),
    postprocessMs: m('postprocessMs'),
  };
  return {
    ...s,
    totalMs: median(rows.map((r) => r.decodeMs + r.preprocessMs + r.inferenceMs + r.postprocessMs)),
  };
}

/** What every side is asked to do: the detector, the passes after the warm-up, and which images. */
export interface VisionRun {
  model: Model;
  passes: number;
  quick: boolean;
}

async function measureOurs({ model, passes, quick }: VisionRun): Promise<OursResult> {
  const images = benchImages(quick);
  const engine = await createVisionEngine(loadConfig({ env: {} }), silentLogger(), { detector: model });
  try {
    const det: Omit<Stages, 'totalMs'>[] = [];
    const ocr: Omit<Stages, 'totalMs'>[] = [];
    const labels: string[][] = [];
    const texts: string[][] = [];
    for (let p = 0; p <= passes; p++) {
      const record = p > 0; // pass 0 warms up: first runs allocate and compile
      for (const file of images.objects) {
        const bytes = readFileSync(file);
        const t0 = performance.now();
        const frame = await decodeImage(bytes, file);
        const decodeMs = performance.now() - t0;
        const { detections, timings } = await engine.detector.detect(frame);
        if (record) det.push({ decodeMs, ...timings });
        else labels.push(detections.map((d) => d.label));
      }
      for (const file of images.text) {
        const bytes = readFileSync(file);
        const t0 = performance.now();
        const frame = await decodeImage(bytes, file);
        const decodeMs = performance.now() - t0;
        const { lines, timings } = await engine.reader.read(frame);
        if (record) {
          ocr.push({
            decodeMs,
            preprocessMs: timings.preprocessMs,
            inferenceMs: timings.detectionMs + timings.recognitionMs,
            postprocessMs: timings.postprocessMs,
          });
        } else texts.push(lines.map((l) => l.text));
      }
    }
    return {
      side: 'ours',
      backend: engine.detector.backend,
      detector: stageMedians(det),
      ocr: stageMedians(ocr),
      rssMb: process.memoryUsage().rss / 2 ** 20,
      labels,
      texts,
    };
  } finally {
    await engine.close();
  }
}

/** Our OCR alone in its process, for a like-for-like memory figure beside the OCR peer. */
async function measureOursOcrOnly({ quick }: VisionRun): Promise<PeerResult> {
  const engine = await createVisionEngine(loadConfig({ env: {} }), silentLogger(), {
    load: { detector: false, reader: true },
  });
  try {
    for (const file of benchImages(quick).text)
      await engine.reader.read(await decodeImage(readFileSync(file), file));
    return {
      side: 'ours-ocr',
      name: 'ours, OCR only',
      msPerImage: NaN,
      rssMb: process.memoryUsage().rss / 2 ** 20,
    };
  } finally {
    await engine.close();
  }
}

async function measurePeerHuman({ model, passes, quick }: VisionRun): Promise<PeerResult> {
  const { runPeerHuman } = await import('./peer-human.js');
  const r = await runPeerHuman(benchImages(quick).objects, model, passes);
  return {
    side: 'peer-human',
    name: `@vladmandic/human ${r.version} (object: ${model}, tfjs wasm)`,
    msPerImage: median(r.msPerImage),
    rssMb: process.memoryUsage().rss / 2 ** 20,
    labels: r.labels,
  };
}

async function measurePeerOcr({ passes, quick }: VisionRun): Promise<PeerResult> {
  const { runPeerOcr } = await import('./peer-ocr.js');
  const r = await runPeerOcr(benchImages(quick).text, passes);
  return {
    side: 'peer-ocr',
    name: '@gutenye/ocr-node 1.4.8 (PP-OCRv4, onnxruntime-node + opencv.js)',
    msPerImage: median(r.msPerImage),
    rssMb: process.memoryUsage().rss / 2 ** 20,
    texts: r.texts,
  };
}

/** Measures one side once; a child process of the CLI in the real benchmark. */
export type RunVisionSide = (side: SideResult['side'], run: VisionRun) => Promise<SideResult>;

function runChild(side: SideResult['side'], { model, passes, quick }: VisionRun): Promise<SideResult> {
  return runBenchSide<SideResult>(
    ['vision', '--side', side, '--model', model, '--passes', String(passes), ...(quick ? ['--quick'] : [])],
    `vision ${side}`,
  );
}

function stagesOut(s: Stages): Stages {
  return {
    decodeMs: round(s.decodeMs, 1),
    preprocessMs: round(s.preprocessMs, 1),
    inferenceMs: round(s.inferenceMs, 1),
    postprocessMs: round(s.postprocessMs, 1),
    totalMs: round(s.totalMs, 1),
  };
}

export async function benchVision(
  argv: string[],
  out: (line: string) => void,
  runSide: RunVisionSide = runChild,
): Promise<number> {
  const { values } = parse('bench vision', argv, {
    json: { type: 'boolean' },
    passes: { type: 'string' },
    model: { type: 'string' },
    quick: { type: 'boolean' },
    side: { type: 'string' },
  });
  const model = values.model ?? loadConfig().vision.detector;
  if (model !== 'centernet' && model !== 'nanodet') {
    throw new GlassesError(
      'E_USAGE',
      `glasses bench vision: --model ${model}: expected centernet or nanodet`,
    );
  }
  const passes = values.passes === undefined ? 3 : Number(values.passes);
  if (!Number.isInteger(passes) || passes < 1) {
    throw new GlassesError(
      'E_USAGE',
      `glasses bench vision: --passes ${values.passes ?? ''}: expected a whole number >= 1`,
    );
  }
  const run: VisionRun = { model, passes, quick: values.quick === true };
  if (values.side !== undefined) {
    const result =
      values.side === 'ours'
        ? await measureOurs(run)
        : values.side === 'peer-human'
          ? await measurePeerHuman(run)
          : values.side === 'peer-ocr'
            ? await measurePeerOcr(run)
            : values.side === 'ours-ocr'
              ? await measureOursOcrOnly(run)
              : undefined;
    if (result === undefined)
      throw new GlassesError('E_USAGE', `glasses bench vision: unknown side "${values.side}"`);
    out(JSON.stringify(result));
    return 0;
  }
  const images = benchImages(run.quick);
  const ours = (await runSide('ours', run)) as OursResult;
  const human = (await runSide('peer-human', run)) as PeerResult;
  const gocr = (await runSide('peer-ocr', run)) as PeerResult;
  const oursOcr = (await runSide('ours-ocr', run)) as PeerResult;
  const ourDetectMs = ours.detector.preprocessMs + ours.detector.inferenceMs + ours.detector.postprocessMs;
  const result = {
    model,
    backend: ours.backend,
    passes,
    quick: run.quick,
    objectImages: images.objects.length,
    textImages: images.text.length,
    detector: stagesOut(ours.detector),
    ocr: stagesOut(ours.ocr),
    rssMb: round(ours.rssMb, 1),
    ocrOnlyRssMb: round(oursOcr.rssMb, 1),
    peers: {
      human: { name: human.name, msPerImage: round(human.msPerImage, 1), rssMb: round(human.rssMb, 1) },
      ocr: { name: gocr.name, msPerImage: round(gocr.msPerImage, 1), rssMb: round(gocr.rssMb, 1) },
    },
    /** Peer time / our time for the same work (>1: we are faster). The human peer is given decoded pixels. */
    ratios: {
      detectorVsHuman: round(human.msPerImage / ourDetectMs, 2),
      ocrVsGutenye: round(gocr.msPerImage / ours.ocr.totalMs, 2),
      ocrMemoryVsGutenye: round(gocr.rssMb / oursOcr.rssMb, 2),
    },
    agreement: {
      labels: images.objects.map((f, i) => ({
        image: f.split('/').pop(),
        ours: [...new Set(ours.labels[i])],
        human: [...new Set(human.labels?.[i])],
      })),
      text: images.text.map((f, i) => ({
        image: f.split('/').pop(),
        same: JSON.stringify(ours.texts[i]) === JSON.stringify(gocr.texts?.[i]),
      })),
    },
  };
  if (values.json === true) {
    out(JSON.stringify(result));
    return 0;
  }
  const row = (name: string, s: Stages): string =>
    `${name.padEnd(26)} ${[s.decodeMs, s.preprocessMs, s.inferenceMs, s.postprocessMs, s.totalMs]
      .map((v) => v.toFixed(1).padStart(10))
      .join(' ')}`;
  out(
    `vision benchmark: ${images.objects.length} object photos, ${images.text.length} text images, ${passes} passes after a warm-up, medians (ms per image)${run.quick ? ' (--quick: a smoke run, not figures to compare)' : ''}`,
  );
  out(
    `${'stage'.padEnd(26)} ${['decode', 'preprocess', 'inference', 'postproc', 'total'].map((h) => h.padStart(10)).join(' ')}`,
  );
  out(row(`detector ${model} (${ours.backend})`, result.detector));
  out(row('ocr PP-OCRv4 (onnxruntime)', result.ocr));
  out(`resident memory, all models loaded: ${result.rssMb} MB; OCR alone: ${result.ocrOnlyRssMb} MB`);
  out(
    `peer ${human.name}: ${result.peers.human.msPerImage} ms/image (detect on decoded pixels), ${result.peers.human.rssMb} MB -> ratio ${result.ratios.detectorVsHuman}x`,
  );
  out(
    `peer ${gocr.name}: ${result.peers.ocr.msPerImage} ms/image (from the file), ${result.peers.ocr.rssMb} MB -> ratio ${result.ratios.ocrVsGutenye}x time, ${result.ratios.ocrMemoryVsGutenye}x memory`,
  );
  for (const a of result.agreement.labels)
    out(`  ${a.image}: ours [${a.ours.join(', ')}]  human [${a.human.join(', ')}]`);
  for (const a of result.agreement.text) out(`  ${a.image}: same text as the peer: ${a.same ? 'yes' : 'no'}`);
  return 0;
}
