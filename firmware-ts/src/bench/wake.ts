/**
 * `glasses bench wake`: our wake engine beside the peer `openwakeword-js` (npm), on the same audio,
 * in one run. Each side runs in its own child process (so resident memory is its own), alternating
 * over several rounds; the figures are medians. Both use one inference thread.
 */
import { splitChunks } from '../audio/chunk.js';
import { readWavAs16kMono } from '../audio/wav.js';
import { loadConfig } from '../config.js';
import { GlassesError } from '../errors.js';
import { silentLogger } from '../log.js';
import { createWakeEngine } from '../main.js';
import { fromRoot } from '../paths.js';
import { FRAME_MS, FRAME_SAMPLES } from '../wake/features.js';
import { loadBenchAudio, latencies, median } from './bench-audio.js';
import { TimedModel } from './timed-model.js';
import { runBenchSide } from './side.js';
import { parse, round } from '../commands/command.js';

const PHRASE = 'hey_jarvis';
const THRESHOLD = 0.5;

/** The default phrase of our own, with its second stage, on the demo's audio (it says "hey quark"). */
const OWN_PHRASE = 'hey_quark';
const OWN_AUDIO = 'firmware-ts/assets/samples/scenario.wav';

/**
 * `--quick`, a smoke run of the real code whose figures are not for comparing: the demo audio's first
 * 40 s (three "hey quark"s, one of them a barge-in) and the peer's warm-up bounded to seconds.
 */
const QUICK_OWN_AUDIO_MS = 40_000;
const QUICK_PEER_WARMUP = { settleMs: 1000, maxMs: 5000 };

interface OwnPhraseResult {
  phrase: string;
  /** The phrase ships a verifier (a second stage) beside its head. */
  verifier: boolean;
  msPerFrame: number;
  headsMsPerFrame: number;
  /** The verifier runs only on frames the head passes: its cost is per trigger, not per frame. */
  verifierRuns: number;
  verifierMsPerRun: number;
  verifierMsPerTrigger: number;
  detections: number;
  frames: number;
}

/** What one child process measures. */
export interface SideResult {
  msPerFrame: number;
  featuresMsPerFrame?: number;
  headsMsPerFrame?: number;
  frames: number;
  rssMb: number;
  /** Audio time from the end of each phrase to its detection. */
  latenciesMs: number[];
  detected: number;
  phrases: number;
  own?: OwnPhraseResult;
}

/**
 * One timed run of a wake engine for `phrase` over `pcm`: a warm-up pass (first runs allocate and
 * optimise), then a timed pass; every model's time and runs, summed by kind.
 */
async function timedPass(
  phrase: string,
  pcm: Int16Array,
): Promise<{
  detectionsAtMs: number[];
  wallMs: number;
  frames: number;
  /** Resident memory with the engine loaded. */
  rssMb: number;
  of: (kind: string) => { ms: number; runs: number };
  /** A model of `kind` was loaded (a verifier that never ran still was). */
  has: (kind: string) => boolean;
}> {
  const timed: { model: TimedModel; kind: string }[] = [];
  const engine = await createWakeEngine(loadConfig({ env: {} }), silentLogger(), {
    phrases: [phrase],
    wrapModel: (m, kind) => {
      const t = new TimedModel(m);
      timed.push({ model: t, kind });
      return t;
    },
  });
  try {
    const pass = async (): Promise<number[]> => {
      engine.detector.reset();
      const at: number[] = [];
      for (const c of splitChunks(pcm, FRAME_SAMPLES)) {
        for (const d of await engine.detector.push(c)) at.push(d.atMs);
      }
      return at;
    };
    await pass();
    for (const t of timed) t.model.resetTiming();
    const t0 = performance.now();
    const detectionsAtMs = await pass();
    const wallMs = performance.now() - t0;
    const totals = new Map<string, { ms: number; runs: number }>();
    for (const t of timed) {
      const sum = totals.get(t.kind) ?? { ms: 0, runs: 0 };
      totals.set(t.kind, { ms: sum.ms + t.model.totalMs, runs: sum.runs + t.model.runs });
    }
    return {
      detectionsAtMs,
      wallMs,
      frames: Math.floor(pcm.length / FRAME_SAMPLES),
      rssMb: process.memoryUsage().rss / 2 ** 20,
      of: (kind) => totals.get(kind) ?? { ms: 0, runs: 0 },
      has: (kind) => totals.has(kind),
    };
  } finally {
    await engine.close();
  }
}

/** The default phrase's two-stage detector over the demo audio, each stage timed. */
async function measureOwnPhrase(quick: boolean): Promise<OwnPhraseResult> {
  const whole = (await readWavAs16kMono(fromRoot(OWN_AUDIO))).pcm;
  const pcm = quick ? whole.subarray(0, (QUICK_OWN_AUDIO_MS / 1000) * 16_000) : whole;
  const run = await timedPass(OWN_PHRASE, pcm);
  const verifier = run.of('wake-verifier');
  const detections = run.detectionsAtMs.length;
  return {
    phrase: OWN_PHRASE,
    verifier: run.has('wake-verifier'),
    msPerFrame: run.wallMs / run.frames,
    headsMsPerFrame: run.of('wake-head').ms / run.frames,
    verifierRuns: verifier.runs,
    verifierMsPerRun: verifier.runs > 0 ? verifier.ms / verifier.runs : 0,
    verifierMsPerTrigger: detections > 0 ? verifier.ms / detections : 0,
    detections,
    frames: run.frames,
  };
}

async function measureOurs(quick: boolean): Promise<SideResult> {
  const audio = await loadBenchAudio();
  const run = await timedPass(PHRASE, audio.pcm);
  const lat = latencies(audio.phraseEndsMs, run.detectionsAtMs);
  return {
    msPerFrame: run.wallMs / run.frames,
    featuresMsPerFrame: run.of('wake-features').ms / run.frames,
    headsMsPerFrame: run.of('wake-head').ms / run.frames,
    frames: run.frames,
    rssMb: run.rssMb,
    latenciesMs: lat,
    detected: lat.length,
    phrases: audio.phraseEndsMs.length,
    own: await measureOwnPhrase(quick),
  };
}

async function measurePeer(quick: boolean): Promise<SideResult> {
  const audio = await loadBenchAudio();
  const { runPeerOpenWakeWord } = await import('./peer-openwakeword.js');
  const result = await runPeerOpenWakeWord({
    pcm: audio.pcm,
    modelsDir: fromRoot(loadConfig({ env: {} }).models.dir),
    heads: [`${PHRASE}_v0.1.onnx`],
    ...(quick ? { warmUp: QUICK_PEER_WARMUP } : {}),
  });
  // The peer scores each 80 ms chunk; fire on the rising edge, as our detector does.
  const at: number[] = [];
  result.scores.forEach((s, i) => {
    if (s >= THRESHOLD && (result.scores[i - 1] ?? 0) < THRESHOLD) at.push((i + 1) * FRAME_MS);
  });
  const lat = latencies(audio.phraseEndsMs, at);
  return {
    msPerFrame: result.msPerFrame,
    frames: result.frames,
    rssMb: process.memoryUsage().rss / 2 ** 20,
    latenciesMs: lat,
    detected: lat.length,
    phrases: audio.phraseEndsMs.length,
  };
}

export type WakeSide = 'ours' | 'peer';

/** Measures one side once; a child process of the CLI in the real benchmark. */
export type RunWakeSide = (side: WakeSide, quick: boolean) => Promise<SideResult>;

function runChild(side: WakeSide, quick: boolean): Promise<SideResult> {
  return runBenchSide<SideResult>(['wake', '--side', side, ...(quick ? ['--quick'] : [])], side);
}

interface Summary {
  msPerFrame: number;
  rtf: number;
  rssMb: number;
  latencyMs: number;
  detected: string;
}

function summarise(runs: SideResult[]): Summary {
  const msPerFrame = median(runs.map((r) => r.msPerFrame));
  const first = runs[0];
  // Latency as the wearer feels it: the audio-time delay plus the compute for the frame that fires.
  const latency = median(runs.flatMap((r) => r.latenciesMs)) + msPerFrame;
  return {
    msPerFrame: round(msPerFrame, 3),
    rtf: round(msPerFrame / FRAME_MS, 4),
    rssMb: round(median(runs.map((r) => r.rssMb)), 1),
    latencyMs: round(latency, 1),
    detected: first === undefined ? '0/0' : `${first.detected}/${first.phrases}`,
  };
}

export async function benchWake(
  argv: string[],
  out: (line: string) => void,
  runSide: RunWakeSide = runChild,
): Promise<number> {
  const { values } = parse('bench wake', argv, {
    json: { type: 'boolean' },
    rounds: { type: 'string' },
    quick: { type: 'boolean' },
    side: { type: 'string' },
  });
  const quick = values.quick === true;
  if (values.side !== undefined) {
    if (values.side !== 'ours' && values.side !== 'peer')
      throw new GlassesError('E_USAGE', `glasses bench wake: --side ${values.side}: expected ours or peer`);
    out(JSON.stringify(values.side === 'ours' ? await measureOurs(quick) : await measurePeer(quick)));
    return 0;
  }
  const rounds = values.rounds === undefined ? 3 : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new GlassesError(
      'E_USAGE',
      `glasses bench wake: --rounds ${values.rounds ?? ''}: expected a whole number >= 1`,
    );
  }
  const ours: SideResult[] = [];
  const peer: SideResult[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate which side goes first, so neither always runs on a warmer machine.
    if (r % 2 === 0) {
      ours.push(await runSide('ours', quick));
      peer.push(await runSide('peer', quick));
    } else {
      peer.push(await runSide('peer', quick));
      ours.push(await runSide('ours', quick));
    }
  }
  const a = summarise(ours);
  const b = summarise(peer);
  const audio = await loadBenchAudio();
  const result = {
    audioSeconds: round(audio.seconds, 2),
    frames: ours[0]?.frames ?? 0,
    rounds,
    quick,
    phrase: PHRASE,
    ...a,
    featuresMsPerFrame: round(median(ours.map((r) => r.featuresMsPerFrame ?? Number.NaN)), 3),
    headsMsPerFrame: round(median(ours.map((r) => r.headsMsPerFrame ?? Number.NaN)), 3),
    peer: { name: 'openwakeword-js@0.1.27 (onnxruntime-web wasm, 1 thread)', ...b },
    /** How many times less time per frame than the peer (>1: faster than the peer). */
    ratioVsPeer: round(b.msPerFrame / a.msPerFrame, 2),
    ownPhrase: ownPhraseSummary(ours, a.msPerFrame),
  };
  if (values.json === true) {
    out(JSON.stringify(result));
    return 0;
  }
  const row = (name: string, s: Summary, f = '', h = ''): string =>
    `${name.padEnd(24)} ${String(s.msPerFrame).padStart(9)} ${f.padStart(9)} ${h.padStart(9)} ${String(s.rtf).padStart(7)} ${String(s.rssMb).padStart(7)} ${String(s.latencyMs).padStart(10)} ${s.detected.padStart(8)}`;
  out(
    `wake benchmark: ${result.audioSeconds} s of audio (${result.frames} frames of 80 ms), ${rounds} rounds, medians${quick ? ' (--quick: a smoke run, not figures to compare)' : ''}`,
  );
  out(
    `${'engine'.padEnd(24)} ${'ms/frame'.padStart(9)} ${'features'.padStart(9)} ${'heads'.padStart(9)} ${'RTF'.padStart(7)} ${'RSS MB'.padStart(7)} ${'latency ms'.padStart(10)} ${'detected'.padStart(8)}`,
  );
  out(row('ours (onnxruntime-node)', a, String(result.featuresMsPerFrame), String(result.headsMsPerFrame)));
  out(row('openwakeword-js (peer)', b));
  out(`ratio vs peer: ${result.ratioVsPeer}x (peer ms/frame / ours)`);
  const o = result.ownPhrase;
  if (o !== undefined) {
    out(
      `${o.phrase} (${o.verifier ? 'head + verifier' : 'its head alone'}) on ${OWN_AUDIO}: ${o.msPerFrame} ms/frame (${o.msPerFrameVsOneHead}x one head's), heads ${o.headsMsPerFrame} ms/frame; ${o.verifier ? `verifier ${o.verifierRuns} runs, ${o.verifierMsPerRun} ms a run, ${o.verifierMsPerTrigger} ms per detection` : 'no verifier'} (${o.detections} detections)`,
    );
  }
  return 0;
}

/** Medians of the own phrase's figures, and its cost per frame beside one plain head's (hey_jarvis). */
function ownPhraseSummary(
  runs: readonly SideResult[],
  oneHeadMsPerFrame: number,
): (OwnPhraseResult & { msPerFrameVsOneHead: number }) | undefined {
  const own = runs.map((r) => r.own).filter((o): o is OwnPhraseResult => o !== undefined);
  const first = own[0];
  if (first === undefined) return undefined;
  const m = (f: (o: OwnPhraseResult) => number): number => median(own.map(f));
  return {
    phrase: first.phrase,
    verifier: first.verifier,
    msPerFrame: round(
      m((o) => o.msPerFrame),
      3,
    ),
    msPerFrameVsOneHead: round(m((o) => o.msPerFrame) / oneHeadMsPerFrame, 3),
    headsMsPerFrame: round(
      m((o) => o.headsMsPerFrame),
      3,
    ),
    verifierRuns: first.verifierRuns,
    verifierMsPerRun: round(
      m((o) => o.verifierMsPerRun),
      3,
    ),
    verifierMsPerTrigger: round(
      m((o) => o.verifierMsPerTrigger),
      3,
    ),
    detections: first.detections,
    frames: first.frames,
  };
}
