/**
 * `glasses selftest`: proves a board (or an emulated one) runs the runtime. Every model of the manifest
 * is checked and loaded, the bundled wake phrase and photos go through the real pipeline, a sentence
 * is synthesised and a bundled command synthesised and recognised as the voice loop does, and the
 * microphone and speaker are tried: the runtime cannot work without them, so one that is not there
 * fails. The camera is optional: tried when it is there, failed when camera.device names one that is
 * not, skipped otherwise. The hardware is behind a rig (selftest-rig.ts builds the real one), so the
 * decisions here are tested with fakes.
 */
import { join } from 'node:path';
import { MODEL_SAMPLE_RATE_HZ, type AudioChunk } from '../audio/chunk.js';
import { isConfigured, type FrozenConfig } from '../config.js';
import { isGlassesError, messageOf } from '../errors.js';
import type { IntentName } from '../speech/intents.js';
import type { Recognition } from '../speech/recognizer.js';
import { COMMAND_SAMPLE, MIN_SPEECH_MS, SPEECH_SAMPLE } from '../start-checks.js';
import { isAbsentDeviceError } from './alsa.js';
import { formatTable, type Column } from './table.js';

export type CheckResult = 'pass' | 'fail' | 'skip';

export interface CheckRow {
  check: string;
  result: CheckResult;
  detail: string;
  ms: number;
}

export interface WakeRun {
  detections: { phrase: string; atMs: number; score: number }[];
  /** Each loaded head's highest score over the file, detected or not. */
  peaks: Record<string, number>;
  thresholds: Record<string, number>;
}

/** Boxes are `[x, y, w, h]` in whole pixels of the original photo. */
export interface ObjectsRun {
  detector: string;
  backend: string;
  objects: { label: string; score: number; box: [number, number, number, number] }[];
}

export interface TextRun {
  lines: { text: string; score: number; box: [number, number, number, number] }[];
}

export interface CapturedAudio {
  samples: number;
  /** Largest absolute sample, 0..1 of full scale. */
  peak: number;
}

export interface CameraFrame {
  width: number;
  height: number;
  bytes: number;
}

/** The real pipeline and devices, or fakes in tests. */
export interface SelftestRig {
  /** Checks every file of the manifest against its size and sha256. */
  verifyModels(): Promise<{ files: number; bytes: number }>;
  /** Opens every model of the manifest; their names. */
  loadModels(): Promise<string[]>;
  wake(file: string): Promise<WakeRun>;
  detect(file: string): Promise<ObjectsRun>;
  read(file: string): Promise<TextRun>;
  listen(device: string, ms: number): Promise<CapturedAudio>;
  play(device: string, ms: number): Promise<void>;
  hasCamera(device: string): Promise<boolean>;
  capture(device: string): Promise<CameraFrame>;
  /** The runtime's speech synthesiser (espeak-ng), as the voice loop builds it. */
  speak(text: string): Promise<AudioChunk>;
  /** The runtime's command recogniser (pocketsphinx), as the voice loop builds it. */
  recognize(pcm: Int16Array): Promise<Recognition>;
  close(): Promise<void>;
}

/** What the bundled photos show (firmware-ts/assets/samples/camera), so a wrong answer fails. */
export const SAMPLE_PHOTOS = {
  objects: { file: join('camera', '1-fruits.jpg'), expectAnyOf: ['apple', 'orange', 'banana'] },
  text: { file: join('camera', '2-price-tag.jpg'), expectText: '12.50' },
} as const;

/** Long enough for a few ALSA periods; short enough not to slow the test down. */
export const LISTEN_MS = 250;
export const PLAY_MS = 100;

export interface SelftestPlan {
  /** The bundled WAV of the first configured phrase, or why there is none. */
  wake: { phrase: string; file: string } | { phrase: string; missing: string };
  objectsPhoto: string;
  textPhoto: string;
  micDevice: string;
  speakerDevice: string;
  cameraDevice: string;
  /** camera.device was set: the board must have that camera (see config.ts isConfigured). */
  cameraConfigured: boolean;
}

export function selftestPlan(
  config: FrozenConfig,
  samplesDir: string,
  exists: (file: string) => boolean,
): SelftestPlan {
  const phrase = config.wake.phrases[0] ?? '';
  const wav = join(samplesDir, `${phrase}.wav`);
  return {
    wake: exists(wav) ? { phrase, file: wav } : { phrase, missing: wav },
    objectsPhoto: join(samplesDir, SAMPLE_PHOTOS.objects.file),
    textPhoto: join(samplesDir, SAMPLE_PHOTOS.text.file),
    micDevice: config.audio.micDevice,
    speakerDevice: config.audio.speakerDevice,
    cameraDevice: config.camera.device,
    cameraConfigured: isConfigured(config, 'camera.device'),
  };
}

export interface SelftestReport {
  ok: boolean;
  checks: CheckRow[];
  /** What the pipeline saw, for comparing two runs (x64 and arm64, two builds). */
  wake?: { file: string } & WakeRun;
  objects?: { file: string } & ObjectsRun;
  text?: { file: string } & TextRun;
}

type Verdict = { result: CheckResult; detail: string };

export async function runSelftest(
  plan: SelftestPlan,
  rig: SelftestRig,
  now: () => number,
  onCheck: (row: CheckRow) => void = () => undefined,
): Promise<SelftestReport> {
  const report: SelftestReport = { ok: true, checks: [] };
  const step = async (check: string, fn: () => Promise<Verdict>): Promise<void> => {
    const started = now();
    let verdict: Verdict;
    try {
      verdict = await fn();
    } catch (err) {
      verdict = { result: 'fail', detail: describeError(err) };
    }
    const row = { check, ...verdict, ms: Math.round(now() - started) };
    report.checks.push(row);
    onCheck(row);
  };

  await step('model files', async () => {
    const { files, bytes } = await rig.verifyModels();
    return { result: 'pass', detail: `${files} files match the manifest (${(bytes / 1e6).toFixed(1)} MB)` };
  });
  await step('models load', async () => {
    const names = await rig.loadModels();
    return { result: 'pass', detail: `${names.length} loaded: ${names.join(', ')}` };
  });
  await step('wake phrase', async () => {
    if ('missing' in plan.wake) {
      return { result: 'skip', detail: `no bundled sample for ${plan.wake.phrase} (${plan.wake.missing})` };
    }
    const run = await rig.wake(plan.wake.file);
    report.wake = { file: plan.wake.file, ...run };
    return judgeWake(run, plan.wake.phrase);
  });
  await step('object detector', async () => {
    const run = await rig.detect(plan.objectsPhoto);
    report.objects = { file: plan.objectsPhoto, ...run };
    return judgeObjects(run, SAMPLE_PHOTOS.objects.expectAnyOf);
  });
  await step('text reader', async () => {
    const run = await rig.read(plan.textPhoto);
    report.text = { file: plan.textPhoto, ...run };
    return judgeText(run, SAMPLE_PHOTOS.text.expectText);
  });
  await step('speech', async () => judgeSpeech(await rig.speak(SPEECH_SAMPLE), SPEECH_SAMPLE));
  await step('command recognition', async () => {
    const audio = await rig.speak(COMMAND_SAMPLE.text);
    return judgeRecognition(await rig.recognize(audio.pcm), COMMAND_SAMPLE);
  });
  await step('microphone', () =>
    deviceStep(plan.micDevice, 'audio.micDevice', async () =>
      judgeAudio(plan.micDevice, await rig.listen(plan.micDevice, LISTEN_MS)),
    ),
  );
  await step('speaker', () =>
    deviceStep(plan.speakerDevice, 'audio.speakerDevice', async () => {
      await rig.play(plan.speakerDevice, PLAY_MS);
      return { result: 'pass', detail: `${plan.speakerDevice}: played ${PLAY_MS} ms of silence` };
    }),
  );
  await step('camera', async () => {
    if (!(await rig.hasCamera(plan.cameraDevice))) {
      return plan.cameraConfigured
        ? {
            result: 'fail',
            detail: `no camera at ${plan.cameraDevice}, which camera.device names: connect it, or unset camera.device on a board without one`,
          }
        : {
            result: 'skip',
            detail: `no camera at ${plan.cameraDevice} (optional; camera.device is not set)`,
          };
    }
    const frame = await rig.capture(plan.cameraDevice);
    return {
      result: 'pass',
      detail: `${plan.cameraDevice}: one ${frame.width}x${frame.height} frame (${Math.round(frame.bytes / 1000)} kB)`,
    };
  });
  report.ok = report.checks.every((c) => c.result !== 'fail');
  return report;
}

/**
 * The runtime cannot listen or speak without these, so a device that is not there fails like any
 * other; it is said plainly, with where to name another.
 */
async function deviceStep(device: string, field: string, fn: () => Promise<Verdict>): Promise<Verdict> {
  try {
    return await fn();
  } catch (err) {
    if (
      (isGlassesError(err, 'E_MIC_OPEN') || isGlassesError(err, 'E_SPEAKER_OPEN')) &&
      isAbsentDeviceError(err.message)
    ) {
      return {
        result: 'fail',
        detail: `${err.code}: no ALSA device ${device} (${lastWords(err.message)}): connect it, or set ${field} to one \`glasses doctor\` lists`,
      };
    }
    throw err;
  }
}

function lastWords(message: string): string {
  const m = /\(([^()]*)\)\s*$/.exec(message);
  return m?.[1] ?? message;
}

export function describeError(err: unknown): string {
  return isGlassesError(err) ? `${err.code}: ${err.message}` : messageOf(err);
}

export function judgeWake(run: WakeRun, phrase: string): Verdict {
  const hit = run.detections.find((d) => d.phrase === phrase);
  const others = run.detections.filter((d) => d.phrase !== phrase);
  const peak = run.peaks[phrase];
  const peakText = peak === undefined ? '' : ` (peak ${peak.toFixed(3)})`;
  if (hit === undefined) {
    const threshold = run.thresholds[phrase];
    return {
      result: 'fail',
      detail: `${phrase} not detected in its own sample${peakText}${threshold === undefined ? '' : `, threshold ${threshold}`}`,
    };
  }
  const found = `${phrase} at ${(hit.atMs / 1000).toFixed(2)} s, score ${hit.score.toFixed(3)}${peakText}`;
  if (others.length > 0) {
    return {
      result: 'fail',
      detail: `${found}, but also ${others.map((d) => `${d.phrase} at ${(d.atMs / 1000).toFixed(2)} s`).join(', ')}`,
    };
  }
  return { result: 'pass', detail: found };
}

export function judgeObjects(run: ObjectsRun, expectAnyOf: readonly string[]): Verdict {
  const seen = run.objects.map((o) => `${o.label} ${o.score.toFixed(2)}`).join(', ');
  const on = `${run.detector} on ${run.backend}`;
  if (!run.objects.some((o) => expectAnyOf.includes(o.label))) {
    return {
      result: 'fail',
      detail: `${on}: no ${expectAnyOf.join('/')} in the photo (saw ${seen === '' ? 'nothing' : seen})`,
    };
  }
  return { result: 'pass', detail: `${on}: ${seen}` };
}

export function judgeText(run: TextRun, expectText: string): Verdict {
  const seen = run.lines.map((l) => `"${l.text}" ${l.score.toFixed(2)}`).join(', ');
  if (!run.lines.some((l) => l.text.includes(expectText))) {
    return {
      result: 'fail',
      detail: `no line reads "${expectText}" (read ${seen === '' ? 'nothing' : seen})`,
    };
  }
  return { result: 'pass', detail: `read ${seen}` };
}

export function judgeSpeech(audio: AudioChunk, text: string): Verdict {
  const ms = (audio.pcm.length / audio.sampleRateHz) * 1000;
  let peak = 0;
  for (const s of audio.pcm) peak = Math.max(peak, Math.abs(s));
  if (ms < MIN_SPEECH_MS || peak === 0) {
    return {
      result: 'fail',
      detail: `"${text}" gave ${Math.round(ms)} ms of audio${peak === 0 ? ', all silent' : ''}: check tts.voice (espeak-ng --voices) or reinstall espeak-ng and espeak-ng-data`,
    };
  }
  const dbfs = 20 * Math.log10(peak / 32768);
  return {
    result: 'pass',
    detail: `"${text}": ${(ms / 1000).toFixed(2)} s of audio, peak ${dbfs.toFixed(0)} dBFS`,
  };
}

export function judgeRecognition(r: Recognition, expected: { text: string; intent: IntentName }): Verdict {
  const said = `"${expected.text}" (synthesised)`;
  const took = `${Math.round(r.ms)} ms`;
  if (r.accepted && r.intent?.name === expected.intent) {
    return {
      result: 'pass',
      detail: `${said} -> ${expected.intent}, confidence ${r.confidence.toFixed(2)}, ${took}`,
    };
  }
  const heard = r.transcript === '' ? 'nothing' : `"${r.transcript}"`;
  const why = r.accepted
    ? `as ${r.intent?.name ?? 'no command'}`
    : `and rejected it (confidence ${r.confidence.toFixed(2)})`;
  return {
    result: 'fail',
    detail: `${said}: pocketsphinx heard ${heard} ${why}, not ${expected.intent} (${took}); check the pocketsphinx-en-us model and tts.voice`,
  };
}

export function judgeAudio(device: string, audio: CapturedAudio): Verdict {
  const seconds = (audio.samples / MODEL_SAMPLE_RATE_HZ).toFixed(2);
  if (audio.samples === 0) return { result: 'fail', detail: `${device}: opened but delivered no audio` };
  // A real microphone always hears some noise; exact zeros mean it is muted or not connected.
  if (audio.peak === 0) {
    return {
      result: 'fail',
      detail: `${device}: ${seconds} s of pure silence (every sample 0): capture muted or mic not connected; check alsamixer`,
    };
  }
  const dbfs = 20 * Math.log10(audio.peak);
  return { result: 'pass', detail: `${device}: ${seconds} s captured, peak ${dbfs.toFixed(0)} dBFS` };
}

const COLUMNS: readonly Column<CheckRow>[] = [
  { title: 'check', cell: (r) => r.check },
  { title: 'result', cell: (r) => r.result.toUpperCase() },
  { title: 'detail', cell: (r) => r.detail, maxWidth: 100 },
  { title: 'ms', cell: (r) => String(r.ms), align: 'right' },
];

export function renderSelftest(report: SelftestReport): string {
  const failed = report.checks.filter((c) => c.result === 'fail').length;
  const skipped = report.checks.filter((c) => c.result === 'skip').length;
  const passed = report.checks.length - failed - skipped;
  const summary = report.ok
    ? `selftest passed: ${passed} passed, ${skipped} skipped`
    : `selftest FAILED: ${failed} failed, ${passed} passed, ${skipped} skipped`;
  return `${formatTable(COLUMNS, report.checks)}\n\n${summary}`;
}

/** Scores to 4 decimals: enough to compare two runs to ~1e-3, without float noise in the JSON. */
export function roundedReport(report: SelftestReport): SelftestReport {
  const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;
  return {
    ...report,
    ...(report.wake === undefined
      ? {}
      : {
          wake: {
            ...report.wake,
            detections: report.wake.detections.map((d) => ({ ...d, score: r4(d.score) })),
            peaks: Object.fromEntries(Object.entries(report.wake.peaks).map(([k, v]) => [k, r4(v)])),
          },
        }),
    ...(report.objects === undefined
      ? {}
      : {
          objects: {
            ...report.objects,
            objects: report.objects.objects.map((o) => ({ ...o, score: r4(o.score) })),
          },
        }),
    ...(report.text === undefined
      ? {}
      : { text: { ...report.text, lines: report.text.lines.map((l) => ({ ...l, score: r4(l.score) })) } }),
  };
}
