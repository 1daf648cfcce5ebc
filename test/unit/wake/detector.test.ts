import { describe, expect, it } from 'vitest';
import { splitChunks } from '../../../firmware-ts/src/audio/chunk.js';
import { isGlassesError } from '../../../firmware-ts/src/errors.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import { SileroVad } from '../../../firmware-ts/src/vad/silero.js';
import { WakeDetector, type Detection, type VadGate } from '../../../firmware-ts/src/wake/detector.js';
import { FRAME_SAMPLES, WakeFeatures } from '../../../firmware-ts/src/wake/features.js';
import { FakeModel, fakeFeatureModels, scriptedHead } from '../../helpers/fake-model.js';

const WARMUP = 5;

async function detector(
  heads: { phrase: string; scores: number[]; threshold?: number }[],
  opts: { refractoryMs?: number; vadGate?: VadGate } = {},
): Promise<{ det: WakeDetector; models: FakeModel[] }> {
  const features = new WakeFeatures(fakeFeatureModels());
  await features.warmUp();
  const models = heads.map((h) => scriptedHead(h.phrase, h.scores));
  const det = new WakeDetector({
    features,
    heads: heads.map((h, i) => ({ phrase: h.phrase, model: models[i]!, threshold: h.threshold ?? 0.5 })),
    refractoryMs: opts.refractoryMs ?? 2000,
    log: silentLogger(),
    ...(opts.vadGate === undefined ? {} : { vadGate: opts.vadGate }),
  });
  return { det, models };
}

async function feed(det: WakeDetector, frames: number, chunk = FRAME_SAMPLES): Promise<Detection[]> {
  const out: Detection[] = [];
  for (const c of splitChunks(new Int16Array(frames * FRAME_SAMPLES), chunk))
    out.push(...(await det.push(c)));
  return out;
}

describe('WakeDetector', () => {
  it('tells the threshold each head fires at', async () => {
    const { det } = await detector([
      { phrase: 'hey_quark', scores: [0.1], threshold: 0.9985 },
      { phrase: 'alexa', scores: [0.1] },
    ]);
    expect(det.thresholds).toEqual({ hey_quark: 0.9985, alexa: 0.5 });
  });

  it('fires once when a score rises over the threshold, at the end of that frame', async () => {
    // Head calls start after the warm-up frames: call i is frame WARMUP + 1 + i.
    const { det } = await detector([
      { phrase: 'hey_jarvis', scores: [0.1, 0.2, 0.75, 0.875, 0.8, 0.3, 0.1] },
    ]);
    const d = await feed(det, 20);
    expect(d).toEqual([{ phrase: 'hey_jarvis', score: 0.75, atMs: (WARMUP + 3) * 80 }]);
  });

  it('does not score the warm-up frames', async () => {
    const { models } = await detector([{ phrase: 'a', scores: [] }]).then(async (r) => {
      await feed(r.det, WARMUP);
      return r;
    });
    expect(models[0]!.calls).toBe(0);
  });

  it('counts a second crossing inside the refractory period as the same utterance', async () => {
    // Crossings at head calls 1 and 10 (720 ms apart), then at call 40 (3.1 s after the first).
    const scores = Array<number>(50).fill(0);
    scores[1] = 0.875;
    scores[10] = 0.875;
    scores[40] = 0.875;
    const { det } = await detector([{ phrase: 'p', scores }], { refractoryMs: 2000 });
    const d = await feed(det, 60);
    expect(d.map((x) => x.atMs)).toEqual([(WARMUP + 2) * 80, (WARMUP + 41) * 80]);
  });

  it('needs the score to fall below the threshold before firing again', async () => {
    const scores = Array<number>(60).fill(0.95);
    const { det } = await detector([{ phrase: 'p', scores }], { refractoryMs: 500 });
    expect(await feed(det, 60)).toHaveLength(1);
  });

  it('applies each phrase its own threshold', async () => {
    const { det } = await detector([
      { phrase: 'a', scores: [0, 0.625, 0], threshold: 0.7 },
      { phrase: 'b', scores: [0, 0.625, 0], threshold: 0.5 },
    ]);
    expect((await feed(det, 12)).map((x) => x.phrase)).toEqual(['b']);
  });

  it('gives the same detections whatever the chunk size', async () => {
    const scores = Array.from({ length: 40 }, (_, i) => (i % 13 === 5 ? 0.875 : 0.1));
    const results: Detection[][] = [];
    for (const chunk of [1024, 1280, 2560, 777]) {
      const { det } = await detector([{ phrase: 'p', scores }], { refractoryMs: 0 });
      results.push(await feed(det, 45, chunk));
    }
    expect(results[0]!.length).toBeGreaterThan(1);
    for (const r of results) expect(r).toEqual(results[0]);
  });

  it('holds back heads while the VAD gate hears no speech, and lets them through after speech', async () => {
    // VAD: silence for the first 40 windows (~1.3 s), speech after.
    const vadModel = new FakeModel('vad', ['input', 'sr', 'h', 'c'], ['output', 'hn', 'cn'], (call) => ({
      output: Float32Array.of(call < 40 ? 0.01 : 0.95),
      hn: new Float32Array(128),
      cn: new Float32Array(128),
    }));
    const scores = Array<number>(60).fill(0.875);
    const { det, models } = await detector([{ phrase: 'p', scores }], {
      vadGate: { vad: new SileroVad(vadModel), threshold: 0.5, lookbackMs: 400 },
    });
    const d = await feed(det, 30);
    // 40 VAD windows of 512 samples end inside frame 16; heads run from frame 17 on.
    expect(models[0]!.calls).toBe(30 - 16);
    expect(d).toHaveLength(1);
    expect(d[0]!.atMs).toBe(17 * 80);
  });

  it('refuses audio that is not 16 kHz mono', async () => {
    const { det } = await detector([{ phrase: 'p', scores: [] }]);
    await expect(
      det.push({ pcm: new Int16Array(100), sampleRateHz: 44100, channels: 2, tsMs: 0 }),
    ).rejects.toSatisfy((e) => isGlassesError(e, 'E_AUDIO_FORMAT'));
  });

  it('starts over on reset', async () => {
    const { det } = await detector([{ phrase: 'p', scores: [0.875, 0, 0, 0, 0, 0, 0, 0, 0.875] }], {
      refractoryMs: 60_000,
    });
    expect(await feed(det, 7)).toHaveLength(1);
    det.reset();
    // Time restarts at zero and the warm-up frames are skipped again; the head's script goes on at call 2.
    const again = await feed(det, 20);
    expect(again).toEqual([{ phrase: 'p', score: 0.875, atMs: (WARMUP + 7) * 80 }]);
  });

  describe('with a verifier (two stages)', () => {
    /** A head scripted by frame, and a verifier whose score is scripted by the frame it is asked on. */
    async function twoStage(head: number[], verifier: (frame: number) => number) {
      const features = new WakeFeatures(fakeFeatureModels());
      await features.warmUp();
      const model = scriptedHead('hey_quark', head);
      let frame = 0;
      const asked: number[] = [];
      const second = new FakeModel('verifier', ['x'], ['y'], () => {
        asked.push(frame);
        return { y: Float32Array.of(verifier(frame)) };
      });
      const firstStage: number[] = [];
      const det = new WakeDetector({
        features,
        heads: [{ phrase: 'hey_quark', model, threshold: 0.3, verifier: { model: second, threshold: 0.9 } }],
        refractoryMs: 2000,
        log: silentLogger(),
        onFrame: (f) => {
          frame++;
          if (f.firstStage !== undefined) firstStage.push(f.firstStage.hey_quark ?? -1);
        },
      });
      // onFrame runs after the frame: the verifier sees the count of frames finished before it.
      return { det, asked, second, firstStage };
    }

    it('asks the verifier only on frames the head passes, and fires when both agree', async () => {
      // Head calls 0..: frames WARMUP+1.. ; passes (>= 0.3) at calls 2, 3, 4.
      const { det, asked, second } = await twoStage([0.1, 0.2, 0.4, 0.6, 0.5, 0.1], (f) =>
        f === WARMUP + 3 ? 0.95 : 0.2,
      );
      const d = await feed(det, 20);
      expect(second.calls).toBe(3);
      expect(asked).toEqual([WARMUP + 2, WARMUP + 3, WARMUP + 4]);
      expect(d).toEqual([{ phrase: 'hey_quark', score: Math.fround(0.95), atMs: (WARMUP + 4) * 80 }]);
      expect(det.thresholds).toEqual({ hey_quark: 0.9 });
    });

    it('takes back what the head alone would fire on when the verifier says no', async () => {
      const { det, firstStage } = await twoStage([0.1, 0.99, 0.99, 0.1], () => 0.5);
      expect(await feed(det, 20)).toEqual([]);
      expect(firstStage.filter((s) => s > 0.9).length).toBe(2);
    });
  });
});
