/**
 * `glasses bench voice`: what the wearer feels of the voice loop, measured in wall time on the real
 * pipeline (wake engine, Silero endpointer, pocketsphinx, espeak-ng):
 *   - end of speech -> first audio of the reply, for intents answered on the device;
 *   - wake detection -> earcon handed to the speaker;
 *   - barge-in (wake phrase while answering) -> playback stopped;
 *   - CPU share while listening idle, on live-paced audio.
 * The bundled scenario runs several times; figures are medians.
 */
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadConfig } from '../config.js';
import { GlassesError } from '../errors.js';
import { silentLogger } from '../log.js';
import { createClock, createFileMic, createSpeaker, createVoiceLoop } from '../main.js';
import { SAMPLES_DIR } from '../paths.js';
import { parse, round } from '../commands/command.js';
import { median } from './bench-audio.js';
import { TimedSpeaker } from './timed-speaker.js';

interface RoundResult {
  replyMs: number[];
  earconMs: number[];
  bargeInStopMs: number[];
}

async function scenarioRound(): Promise<RoundResult> {
  const config = loadConfig({ env: {} });
  const clock = createClock('file');
  const dir = mkdtempSync(join(tmpdir(), 'bench-voice-'));
  const speaker = new TimedSpeaker(createSpeaker({ file: join(dir, 'out.wav'), clock }, silentLogger()));
  const wakes: { wallMs: number }[] = [];
  const replyMs: number[] = [];
  const loop = await createVoiceLoop(config, silentLogger(), {
    mic: createFileMic(join(SAMPLES_DIR, 'scenario.wav'), 'fast', clock),
    speaker,
    pace: 'file',
    clock,
    onEvent: (e) => {
      if (e.type === 'wake' && !e.echo) wakes.push({ wallMs: performance.now() });
      if (e.type === 'say' && e.source === 'device' && e.firstAudioMs !== undefined)
        replyMs.push(e.firstAudioMs);
    },
  });
  try {
    await loop.runner.run(new AbortController().signal);
  } finally {
    await loop.close();
  }
  const earconMs: number[] = [];
  const bargeInStopMs: number[] = [];
  for (const w of wakes) {
    // The earcon is the first sound started after the detection.
    const earcon = speaker.plays.find((p) => p.startMs >= w.wallMs);
    if (earcon?.firstChunkMs !== undefined) earconMs.push(earcon.firstChunkMs - w.wallMs);
    // A sound playing when the phrase was heard, and cut by it, measures barge-in.
    const cut = speaker.plays.find((p) => p.startMs < w.wallMs && p.endMs >= w.wallMs);
    if (cut !== undefined) bargeInStopMs.push(cut.endMs - w.wallMs);
  }
  return { replyMs, earconMs, bargeInStopMs };
}

/** CPU used while listening with nobody speaking, on audio delivered at real pace. */
async function idleCpu(seconds: number): Promise<number> {
  const config = loadConfig({ env: {} });
  const clock = createClock('live');
  const dir = mkdtempSync(join(tmpdir(), 'bench-idle-'));
  const loop = await createVoiceLoop(config, silentLogger(), {
    // Ordinary speech with no wake phrase: the wake models and VAD work as they do all day.
    mic: createFileMic(join(SAMPLES_DIR, 'ordinary_sentence.wav'), 'realtime', clock),
    speaker: createSpeaker({ file: join(dir, 'out.wav'), clock }, silentLogger()),
    pace: 'live',
    clock,
    onEvent: () => undefined,
  });
  const controller = new AbortController();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const timer = setTimeout(() => {
    controller.abort();
  }, seconds * 1000);
  try {
    // The sample is 4 s; run it in a loop until time is up.
    while (!controller.signal.aborted) await loop.runner.run(controller.signal);
  } finally {
    clearTimeout(timer);
    await loop.close();
  }
  const used = process.cpuUsage(cpu0);
  return (used.user + used.system) / 1000 / (performance.now() - t0);
}

export async function benchVoice(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parse('bench voice', argv, {
    json: { type: 'boolean' },
    rounds: { type: 'string' },
    'idle-seconds': { type: 'string' },
  });
  const rounds = values.rounds === undefined ? 3 : Number(values.rounds);
  const idleSeconds = values['idle-seconds'] === undefined ? 10 : Number(values['idle-seconds']);
  if (!Number.isInteger(rounds) || rounds < 1 || !(idleSeconds > 0)) {
    throw new GlassesError(
      'E_USAGE',
      'glasses bench voice: --rounds takes a whole number >= 1, --idle-seconds a positive number',
    );
  }
  const all: RoundResult = { replyMs: [], earconMs: [], bargeInStopMs: [] };
  for (let r = 0; r < rounds; r++) {
    const res = await scenarioRound();
    all.replyMs.push(...res.replyMs);
    all.earconMs.push(...res.earconMs);
    all.bargeInStopMs.push(...res.bargeInStopMs);
  }
  const cpu = await idleCpu(idleSeconds);
  const result = {
    rounds,
    replyFirstAudioMs: round(median(all.replyMs), 1),
    replySamples: all.replyMs.length,
    wakeToEarconMs: round(median(all.earconMs), 2),
    bargeInToStopMs: round(median(all.bargeInStopMs), 2),
    bargeInSamples: all.bargeInStopMs.length,
    idleCpuShare: round(cpu, 4),
    idleSeconds,
  };
  if (values.json === true) {
    out(JSON.stringify(result));
    return 0;
  }
  out(`voice loop benchmark: bundled scenario x${rounds}, medians (wall time)`);
  out(
    `  end of speech -> first audio of a device reply   ${result.replyFirstAudioMs} ms  (${result.replySamples} replies)`,
  );
  out(`  wake detection -> earcon                          ${result.wakeToEarconMs} ms`);
  out(
    `  barge-in -> playback stopped                      ${result.bargeInToStopMs} ms  (${result.bargeInSamples} barge-ins)`,
  );
  out(
    `  CPU while listening idle (${idleSeconds} s, real pace)      ${(result.idleCpuShare * 100).toFixed(1)} % of one core`,
  );
  return 0;
}
