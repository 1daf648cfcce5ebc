/**
 * The benchmarks through the built CLI, their real sides in their own processes, on small inputs
 * (`--quick`, one round or pass): every documented figure is there, the ratios are the quotients of
 * the two sides' figures printed beside them, stages are parts of their totals, and both sides found
 * the same things, or the timings compare nothing. How the figures are combined over rounds is
 * checked with sides of known speed in test/unit/bench/; the numbers themselves are not judged here.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../firmware-ts/src/paths.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'firmware-ts', 'src', 'cli.js');

async function bench(args: string[], timeoutMs: number): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'bench', ...args], {
    timeout: timeoutMs,
  });
  return JSON.parse(stdout.trim()) as Record<string, unknown>;
}

/** `a` is `b` but for the rounding of the figures it was computed from (relative). */
function near(a: number, b: number, relative = 0.03): boolean {
  return Math.abs(a - b) <= relative * Math.abs(b) + 0.01;
}

interface WakeFigures {
  msPerFrame: number;
  rtf: number;
  rssMb: number;
  latencyMs: number;
  detected: string;
}

interface WakeJson extends WakeFigures {
  rounds: number;
  quick: boolean;
  featuresMsPerFrame: number;
  headsMsPerFrame: number;
  ratioVsPeer: number;
  peer: WakeFigures;
  ownPhrase: Record<
    | 'frames'
    | 'detections'
    | 'verifierRuns'
    | 'verifierMsPerRun'
    | 'headsMsPerFrame'
    | 'msPerFrame'
    | 'msPerFrameVsOneHead',
    number
  > & { verifier: boolean };
}

describe('glasses bench wake --json --quick', () => {
  it('prints ms per frame, RTF, memory and latency for ours and the peer, with the ratio of the two', async () => {
    const r = (await bench(['wake', '--json', '--rounds', '1', '--quick'], 150_000)) as unknown as WakeJson;
    for (const key of [
      'msPerFrame',
      'rtf',
      'rssMb',
      'latencyMs',
      'featuresMsPerFrame',
      'headsMsPerFrame',
    ] as const)
      expect(r[key], key).toBeGreaterThan(0);
    for (const key of ['msPerFrame', 'rtf', 'rssMb', 'latencyMs'] as const)
      expect(r.peer[key], key).toBeGreaterThan(0);
    expect([r.rounds, r.quick]).toEqual([1, true]);
    // From both sides of this run: the peer's time per frame over ours.
    expect(near(r.ratioVsPeer, r.peer.msPerFrame / r.msPerFrame), `${r.ratioVsPeer}`).toBe(true);
    expect(near(r.rtf, r.msPerFrame / 80)).toBe(true);
    expect(near(r.peer.rtf, r.peer.msPerFrame / 80)).toBe(true);
    // The models' time is part of the frame's time, and of one pass only (the warm-up is not counted).
    expect(r.featuresMsPerFrame + r.headsMsPerFrame).toBeLessThanOrEqual(r.msPerFrame + 0.002);
    // Both engines find the four phrases in the benchmark audio, or the timings compare nothing.
    expect(r.detected).toBe('4/4');
    expect(r.peer.detected).toBe('4/4');
    // The default phrase on the demo's first 40 s (500 frames, three "hey quark"s). With a verifier,
    // it ran only on frames the head passed, so its cost was measured on real triggers; without one
    // (the phrase ships its head alone) nothing of it ran.
    const own = r.ownPhrase;
    expect(own.frames).toBe(500);
    expect(own.detections).toBeGreaterThanOrEqual(2);
    if (own.verifier) {
      expect(own.verifierRuns).toBeGreaterThanOrEqual(own.detections);
      expect(own.verifierRuns).toBeLessThan(own.frames / 10);
      expect(own.verifierMsPerRun).toBeGreaterThan(0);
    } else {
      expect(own.verifierRuns).toBe(0);
    }
    expect(own.headsMsPerFrame).toBeLessThanOrEqual(own.msPerFrame + 0.002);
    expect(near(own.msPerFrameVsOneHead, own.msPerFrame / r.msPerFrame)).toBe(true);
  }, 160_000);
});

describe('glasses bench vision --json --quick', () => {
  it('prints per-stage times for the detector and OCR, memory, both peers and the ratios of the sides', async () => {
    const r = (await bench(['vision', '--json', '--passes', '1', '--quick'], 200_000)) as unknown as {
      objectImages: number;
      textImages: number;
      quick: boolean;
      detector: Record<string, number>;
      ocr: Record<string, number>;
      rssMb: number;
      ocrOnlyRssMb: number;
      peers: { human: { msPerImage: number; rssMb: number }; ocr: { msPerImage: number; rssMb: number } };
      ratios: Record<string, number>;
      agreement: { labels: { image: string; ours: string[] }[]; text: { image: string; same: boolean }[] };
    };
    expect([r.objectImages, r.textImages, r.quick]).toEqual([1, 1, true]);
    for (const stages of [r.detector, r.ocr]) {
      for (const key of ['decodeMs', 'preprocessMs', 'inferenceMs', 'postprocessMs'])
        expect(stages[key], key).toBeGreaterThanOrEqual(0);
      expect(stages.inferenceMs).toBeGreaterThan(0);
      expect(stages.inferenceMs).toBeLessThanOrEqual(stages.totalMs!);
      // One image, one pass: the total is the sum of its stages (each rounded to 0.1 ms).
      const sum = stages.decodeMs! + stages.preprocessMs! + stages.inferenceMs! + stages.postprocessMs!;
      expect(Math.abs(stages.totalMs! - sum)).toBeLessThanOrEqual(0.25);
    }
    // All models loaded take more memory than the OCR alone, the figure set beside the OCR peer's.
    expect(r.rssMb).toBeGreaterThan(r.ocrOnlyRssMb);
    expect(r.peers.human.msPerImage).toBeGreaterThan(0);
    expect(r.peers.ocr.msPerImage).toBeGreaterThan(0);
    // Each ratio is the peer's figure over ours for the same work; the human peer is given decoded
    // pixels, so our detector is timed without its decode.
    const ourDetectMs = r.detector.preprocessMs! + r.detector.inferenceMs! + r.detector.postprocessMs!;
    expect(near(r.ratios.detectorVsHuman!, r.peers.human.msPerImage / ourDetectMs, 0.05)).toBe(true);
    expect(near(r.ratios.ocrVsGutenye!, r.peers.ocr.msPerImage / r.ocr.totalMs!, 0.05)).toBe(true);
    expect(near(r.ratios.ocrMemoryVsGutenye!, r.peers.ocr.rssMb / r.ocrOnlyRssMb, 0.05)).toBe(true);
    // The timings compare like with like only if both sides found the same things.
    expect(r.agreement.labels.find((a) => a.image === 'messi5.jpg')?.ours).toEqual(
      expect.arrayContaining(['person', 'sports ball']),
    );
    expect(r.agreement.text.find((a) => a.image === '2-price-tag.jpg')?.same).toBe(true);
  }, 210_000);
});

describe('glasses bench cloud --json', () => {
  it('answers all five spoken questions through the development cloud and reports the two medians', async () => {
    const r = (await bench(['cloud', '--json', '--rounds', '1'], 120_000)) as Record<string, number>;
    // Every question reached the cloud and its answer was heard, or the medians describe fewer.
    expect(r.questions).toBe(5);
    for (const key of ['endOfSpeechToRequestMs', 'silenceEndToRequestMs', 'firstTokenToFirstAudioMs']) {
      expect(typeof r[key], key).toBe('number');
      expect(r[key], key).toBeGreaterThan(0);
    }
    // The end of speech includes the silence that ends an open question (endpoint.longSilenceMs).
    expect(r.endOfSpeechToRequestMs).toBeGreaterThanOrEqual(r.silenceWaitMs ?? 0);
  }, 150_000);
});

describe('glasses bench, bad arguments', () => {
  it('exits 2 with E_USAGE naming the option, before measuring anything', async () => {
    for (const [args, named] of [
      [['wake', '--rounds', '0'], '--rounds 0'],
      [['wake', '--side', 'theirs'], '--side theirs'],
      [['vision', '--passes', 'x'], '--passes x'],
      [['vision', '--model', 'yolo'], '--model yolo'],
      [['cloud', '--rounds', '-1'], '--rounds'],
      [['fast'], 'unknown benchmark "fast"'],
    ] as const) {
      const err = (await promisify(execFile)(process.execPath, [CLI, 'bench', ...args], {
        timeout: 30_000,
      }).then(
        () => undefined,
        (e: unknown) => e,
      )) as { code?: number; stderr?: string; stdout?: string } | undefined;
      expect(err?.code, args.join(' ')).toBe(2);
      expect(err?.stderr).toMatch(/^glasses bench: E_USAGE: /);
      expect(err?.stderr).toContain(named);
      expect(err?.stdout).toBe('');
    }
  }, 60_000);
});
