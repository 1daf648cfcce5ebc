/**
 * The voice loop on the board's path: a spoken request goes in through a file-backed ALSA capture
 * device and real arecord; pocketsphinx understands it; espeak-ng answers through real aplay into a
 * file-backed playback device; and the answer that came out is run back through the recogniser,
 * which must hear the right words among close alternatives (a round trip, not a string compare).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../firmware-ts/src/config.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import { createAlsaMic, createClock, createSpeaker, createVoiceLoop } from '../../../firmware-ts/src/main.js';
import { PocketsphinxRecognizer } from '../../../firmware-ts/src/speech/pocketsphinx.js';
import type { RunEvent } from '../../../firmware-ts/src/voice-loop/runner.js';
import { makeAlsaFileDevices } from '../../helpers/alsa.js';
import { spokenRequest } from '../../helpers/spoken-request.js';

const dir = mkdtempSync(join(tmpdir(), 'loop-alsa-'));
let savedAlsaPath: string | undefined;
let devices: Awaited<ReturnType<typeof makeAlsaFileDevices>>;

/** The default wake phrase, a pause, the request, then silence, as raw S16_LE for the capture device. */
function speakRequest(request: string): void {
  const pcm = spokenRequest(dir, request);
  // At its end the capture device repeats its last period: end on silence.
  const raw = new Int16Array(pcm.length + 16000);
  raw.set(pcm);
  writeFileSync(join(dir, 'capture.raw'), Buffer.from(raw.buffer));
}

/** Runs the loop on the capture device until it has spoken its first device answer. */
async function runUntilAnswered(now: Date): Promise<RunEvent[]> {
  writeFileSync(join(dir, 'playback.raw'), '');
  const log = silentLogger();
  const clock = createClock('live');
  const events: RunEvent[] = [];
  const controller = new AbortController();
  const loop = await createVoiceLoop(loadConfig({ env: {} }), log, {
    mic: createAlsaMic(devices.captureDevice, log),
    speaker: createSpeaker({ device: devices.playbackDevice }, log),
    pace: 'live',
    clock,
    now: () => now,
    onEvent: (e) => {
      events.push(e);
      if (e.type === 'say' || e.type === 'error') controller.abort();
    },
  });
  const deadline = setTimeout(() => {
    controller.abort();
  }, 60_000);
  try {
    await loop.runner.run(controller.signal);
  } finally {
    clearTimeout(deadline);
    await loop.close();
  }
  return events;
}

/** What the playback device received (the last sound played: each aplay truncates the file). */
function played(): Int16Array {
  const buf = readFileSync(join(dir, 'playback.raw'));
  return new Int16Array(buf.buffer, buf.byteOffset, Math.floor(buf.length / 2));
}

/** A recogniser that knows only the phrases an answer could be. */
function answerRecognizer(phrases: string[]): PocketsphinxRecognizer {
  return new PocketsphinxRecognizer({
    log: silentLogger(),
    commands: [{ intent: 'help', phrases }],
    tempRoot: mkdtempSync(join(tmpdir(), 'answer-grammar-')),
  });
}

beforeAll(async () => {
  devices = await makeAlsaFileDevices({
    captureRaw: join(dir, 'capture.raw'),
    playbackRaw: join(dir, 'playback.raw'),
    dir,
  });
  savedAlsaPath = process.env.ALSA_CONFIG_PATH;
  // arecord (through node-record-lpcm16) and aplay inherit this process's environment.
  process.env.ALSA_CONFIG_PATH = devices.env.ALSA_CONFIG_PATH;
});

afterAll(() => {
  if (savedAlsaPath === undefined) delete process.env.ALSA_CONFIG_PATH;
  else process.env.ALSA_CONFIG_PATH = savedAlsaPath;
});

describe('voice loop through arecord and aplay', () => {
  it('"louder": understood, answered, and the answer heard back as "volume eight of ten"', async () => {
    speakRequest('louder');
    const events = await runUntilAnswered(new Date(2026, 10, 25, 10, 25));
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    expect(events.find((e) => e.type === 'intent')).toMatchObject({ name: 'louder', accepted: true });
    expect(events.find((e) => e.type === 'say')).toMatchObject({ text: 'Volume 8 of 10.', completed: true });
    const reply = played();
    expect(reply.length).toBeGreaterThan(16000 * 0.5);
    const heard = await answerRecognizer([
      'volume six of ten',
      'volume seven of ten',
      'volume eight of ten',
      'volume nine of ten',
      'volume ten of ten',
    ]).recognize(reply, new AbortController().signal);
    // A forced choice among near neighbours: only the number differs. (The command recogniser's
    // rejection test is tuned for the wearer's commands, not for this, so it is not asked.)
    expect(heard.transcript).toBe('volume eight of ten');
  }, 90_000);

  it('"what time is it": the spoken time comes back as the same time', async () => {
    speakRequest('what time is it');
    const events = await runUntilAnswered(new Date(2026, 10, 25, 10, 25));
    expect(events.find((e) => e.type === 'intent')).toMatchObject({ name: 'time', accepted: true });
    const heard = await answerRecognizer([
      "it's ten twenty five a m",
      "it's ten thirty five a m",
      "it's two twenty five p m",
      "it's eleven twenty a m",
      "it's seven forty p m",
    ]).recognize(played(), new AbortController().signal);
    expect(heard.transcript).toBe("it's ten twenty five a m");
  }, 90_000);
});
