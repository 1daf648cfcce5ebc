/**
 * `glasses run`: the runtime. On the board: the ALSA microphone and speaker, live. On files: the same
 * loop, as fast as the pipeline allows, keeping time by the mic file's audio. With no capture device
 * and no microphone configured (a dev machine, CI) it runs its embedded default: the bundled scenario
 * of spoken requests (run-mode.ts decides). Under the board's service (--service) it is always live.
 */
import { existsSync, readdirSync } from 'node:fs';
import { isConfigured } from '../config.js';
import { join, relative, resolve } from 'node:path';
import { GlassesError } from '../errors.js';
import {
  createAlsaMic,
  createCamera,
  createClock,
  createFileMic,
  createRecognizer,
  createSpeaker,
  createSynthesizer,
  createVoiceLoop,
} from '../main.js';
import { runStartChecks } from '../start-checks.js';
import { Health } from '../health.js';
import { PACKAGE_VERSION, SAMPLES_DIR } from '../paths.js';
import { makePrivateDir } from '../util/private-file.js';
import { boot, COMMON_USAGE, parse, untilInterrupted, type Command } from './command.js';
import { runMode, serviceProblem } from './run-mode.js';
import { Timeline } from './timeline.js';

const SCENARIO = join(SAMPLES_DIR, 'scenario.wav');
/** What the demo's camera sees, one photo per question in name order. */
const DEMO_CAMERA = join(SAMPLES_DIR, 'camera');
/** The start checks take ~1 s on a board (up to ~4 s on a busy one); past this they failed. */
const START_CHECKS_DEADLINE_MS = 30_000;

export const runCommand: Command = {
  name: 'run',
  summary: 'the runtime: wake, listen, understand, answer (the bundled scenario when there is no microphone)',
  usage: `Usage: glasses run                               the configured or ALSA mic and speaker, or the demo
       glasses run --service                     as the board's service: always live, no timeline
       glasses run --mic DEVICE [--speaker DEVICE]  other ALSA devices
       glasses run --mic FILE.wav --speaker OUT.wav [--camera IMAGE] [--json]
       glasses run --demo [--out DIR] [--json]
       glasses run ... [--dev-cloud]

On files the loop runs as fast as it can, keeping time by the audio, and exits once the mic file has
ended and the loop is idle; OUT.wav holds what the glasses said, aligned with the input. With no
capture device (or --demo) it runs the bundled scenario (${relative(process.cwd(), SCENARIO)})
and writes each answer as a WAV in --out (default .demo/).

The cloud (answers to open questions, orders) is the one config names (cloud.llmBaseUrl,
cloud.ordersBaseUrl, cloud.tokenFile). Where a URL is empty, the demo and file runs start the
development cloud in this process on loopback (no account; its answers say "Development cloud:"),
and live runs leave that side off unless --dev-cloud is given. The demo's orders always go to the
development cloud and its own outbox in --out, never to a configured orders API.

Prints a readable timeline, or with --json one JSON line per event (state, wake, utterance, intent,
say, order, error), each with a type and timings. On a live run (the board's service, whose output goes
to the journal) what the wearer said and what the glasses answered are left out of both, unless
--show-content or --log-level debug asks for them; demo and file runs show them.

Options:
  --mic DEVICE|FILE   ALSA capture device, or a WAV file to listen to
  --speaker DEVICE|FILE  ALSA playback device, or the WAV file to write (with a file mic)
  --camera SOURCE     what the camera sees: a V4L2 device (/dev/video0), an image, a folder of images
                      (one per question, in name order) or a video (read at the audio's time);
                      default: config camera.device when it exists, the bundled photos in the demo
  --demo              run the bundled scenario (also the default where there is no capture device
                      and audio.micDevice is not configured)
  --service           how the board's unit and service script start it: live on audio.micDevice
                      even where ALSA lists no capture device, never the demo, and no timeline on
                      stdout (the journal); a file mic makes its health report fail
  --out DIR           where the demo writes its answers (default .demo/)
  --dev-cloud         use the development cloud for an empty cloud URL on a live run too
  --json              JSON lines instead of the timeline
  --show-content      on a live run, print transcripts, commands and answers too
${COMMON_USAGE}`,

  async run({ argv, out }) {
    const { values } = parse('run', argv, {
      mic: { type: 'string' },
      speaker: { type: 'string' },
      camera: { type: 'string' },
      demo: { type: 'boolean' },
      service: { type: 'boolean' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      'show-content': { type: 'boolean' },
      'dev-cloud': { type: 'boolean' },
    });
    if (values.help === true) {
      out(this.usage);
      return 0;
    }
    // Log lines are stamped with the loop's audio time, the timeline's clock (0 until the loop is built).
    let loopMs = (): number => 0;
    const { config, log } = boot(values, { loopMs: () => loopMs() });
    const runLog = log.child({ component: 'run' });
    const service = values.service === true;
    const micConfigured = isConfigured(config, 'audio.micDevice');
    const micName = values.mic ?? (micConfigured ? config.audio.micDevice : undefined);
    const mode = runMode({
      demo: values.demo === true,
      mic: micName,
      micConfigured,
      service,
      captureDevice: hasCaptureDevice(),
    });
    const demo = mode === 'demo';
    const micIsFile = mode === 'file';
    const pace = demo || micIsFile ? 'file' : 'live';
    const clock = createClock(pace);

    let micFile: string | undefined;
    let speakerFile: string | undefined;
    let answersDir: string | undefined;
    if (demo) {
      micFile = SCENARIO;
      answersDir = resolve(values.out ?? '.demo');
      await makePrivateDir(answersDir);
      speakerFile = join(answersDir, 'conversation.wav');
      runLog.info({ scenario: SCENARIO, out: answersDir }, 'no microphone: running the bundled scenario');
    } else if (micIsFile) {
      if (values.speaker === undefined) {
        throw new GlassesError(
          'E_USAGE',
          'glasses run: with a file mic, give --speaker OUT.wav for what the glasses say',
        );
      }
      micFile = micName;
      speakerFile = values.speaker;
    }
    const cameraSpec =
      values.camera ??
      (demo ? DEMO_CAMERA : existsSync(config.camera.device) ? config.camera.device : undefined);
    if (cameraSpec === undefined)
      runLog.warn({ device: config.camera.device }, 'no camera: the vision questions will say so');
    const camera = cameraSpec === undefined ? undefined : createCamera(cameraSpec, config, clock, log);

    const health =
      config.health.file === ''
        ? undefined
        : new Health({
            file: resolve(config.health.file),
            version: PACKAGE_VERSION,
            intervalMs: config.health.intervalMs,
            log: runLog,
          });
    const rawMic =
      micFile !== undefined
        ? createFileMic(micFile, 'fast', clock)
        : createAlsaMic(values.mic ?? config.audio.micDevice, log);
    const mic = health === undefined ? rawMic : health.watchMic(rawMic);
    const speaker =
      speakerFile !== undefined
        ? createSpeaker(
            { file: speakerFile, clock, ...(answersDir === undefined ? {} : { answersDir }) },
            log,
          )
        : createSpeaker({ device: values.speaker ?? config.audio.speakerDevice }, log);

    // Demo and file runs (and --dev-cloud) stand the development cloud in for an empty cloud URL; its
    // orders never share an outbox with a real cloud's. The demo's orders always go to the
    // development cloud: its scripted "yes" must never buy from a configured orders API.
    const embedded = pace === 'file' || values['dev-cloud'] === true;
    const devOrders = demo || (embedded && config.cloud.ordersBaseUrl === '');
    const outboxDir =
      devOrders && answersDir !== undefined
        ? join(answersDir, 'outbox')
        : devOrders
          ? resolve('.glasses/dev-cloud/outbox')
          : resolve(config.orders.outboxDir);
    const showContent = pace === 'file' || values['show-content'] === true || log.isLevelEnabled('debug');
    // Under the service stdout is the journal (or the script's log): events only when --json asks.
    const timeline = new Timeline(
      service && values.json !== true ? () => undefined : out,
      values.json === true,
      showContent,
    );
    const loop = await createVoiceLoop(config, log, {
      mic,
      speaker,
      pace,
      clock,
      ...(camera === undefined ? {} : { camera }),
      cloud: { mode: demo ? 'demo' : embedded ? 'embedded' : 'configured', outboxDir },
      onEvent: (e) => {
        timeline.print(e);
      },
    });
    loopMs = () => loop.runner.audioMs;
    const started = performance.now();
    try {
      for (const p of loop.problems) await health?.problem(`${p.code}: ${p.message}`);
      const fileMic = serviceProblem(mode, service, micName);
      if (fileMic !== undefined) {
        runLog.error({}, fileMic);
        await health?.problem(fileMic);
      }
      await health?.set('modelsLoaded', true);
      health?.start();
      // A live run tries what it can at start (the voice exists, the speaker opens), so a bad
      // tts.voice or a missing speaker is said now, not at the first answer; files and the demo
      // start at once unless a health report wants them.
      if (health !== undefined || pace === 'live') {
        const recognizer = createRecognizer(log);
        try {
          const checks = await runStartChecks({
            synthesizer: createSynthesizer(config, log),
            recognizer,
            // A file speaker's output holds what the glasses said and nothing else.
            ...(speakerFile === undefined ? { speaker } : {}),
            signal: AbortSignal.timeout(START_CHECKS_DEADLINE_MS),
          });
          for (const [part, c] of Object.entries(checks)) {
            if (c.checked && !c.ok) runLog.warn({ part, code: c.code, err: c.message }, 'start check failed');
          }
          await health?.checked(checks);
        } finally {
          await recognizer.close();
        }
      }
      await untilInterrupted(async (signal) => {
        const running = loop.runner.run(signal);
        await health?.set('loopRunning', true);
        await running;
        // A live loop ends only when it is stopped: a microphone that ended (arecord exiting 0) is a
        // failure, so the unit (Restart=on-failure) starts the runtime again instead of leaving the
        // board deaf.
        if (pace === 'live' && !signal.aborted) {
          throw new GlassesError(
            'E_MIC_FAILED',
            `microphone ${mic.name}: the capture stream ended; the glasses stopped listening`,
          );
        }
      });
    } finally {
      await health?.stop();
      const written = await loop.close();
      if (values.json !== true) {
        timeline.done(
          performance.now() - started,
          [speakerFile, ...written].filter((f): f is string => f !== undefined),
        );
      }
    }
    return timeline.errors > 0 ? 1 : 0;
  },
};

/** A capture device exists when ALSA lists one; on CI and fresh dev machines none does. */
function hasCaptureDevice(): boolean {
  try {
    return readdirSync('/dev/snd').some((f) => /^pcmC\d+D\d+c$/.test(f));
  } catch {
    return false;
  }
}
