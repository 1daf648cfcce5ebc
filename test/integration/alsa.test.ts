/**
 * The real arecord and aplay paths, through ALSA devices backed by files (no sound card needed):
 * a WAV goes in through arecord and node-record-lpcm16, and is detected as it would be from the file.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWavAs16kMono } from '../../firmware-ts/src/audio/wav.js';
import { isGlassesError } from '../../firmware-ts/src/errors.js';
import { AlsaMic } from '../../firmware-ts/src/hal/alsa-mic.js';
import { AplaySpeaker } from '../../firmware-ts/src/hal/aplay-speaker.js';
import { silentLogger } from '../../firmware-ts/src/log.js';
import type { WakeEngine } from '../../firmware-ts/src/main.js';
import { PACKAGE_ROOT } from '../../firmware-ts/src/paths.js';
import type { Detection } from '../../firmware-ts/src/wake/detector.js';
import { makeAlsaFileDevices } from '../helpers/alsa.js';
import { detectFile, realEngine } from '../helpers/engine.js';
import { WAKE_FIXTURES } from '../helpers/fixtures.js';

const CLIP = join(WAKE_FIXTURES, 'multi', 'jarvis_twice.wav');
const dir = mkdtempSync(join(tmpdir(), 'alsa-'));
const captureRaw = join(dir, 'capture.raw');
const playbackRaw = join(dir, 'playback.raw');
let devices: Awaited<ReturnType<typeof makeAlsaFileDevices>>;
let engine: WakeEngine;
let savedAlsaPath: string | undefined;

beforeAll(async () => {
  const { pcm } = await readWavAs16kMono(CLIP);
  // At the end of its file the capture device repeats its last period: end on a second of zeros so
  // whatever is read past the end is silence.
  const raw = new Int16Array(pcm.length + 16000);
  raw.set(pcm);
  writeFileSync(captureRaw, Buffer.from(raw.buffer));
  writeFileSync(playbackRaw, '');
  devices = await makeAlsaFileDevices({ captureRaw, playbackRaw, dir });
  // node-record-lpcm16 spawns arecord with this process's environment.
  savedAlsaPath = process.env.ALSA_CONFIG_PATH;
  process.env.ALSA_CONFIG_PATH = devices.env.ALSA_CONFIG_PATH;
  engine = await realEngine({ phrases: ['hey_jarvis'] });
});

afterAll(async () => {
  await engine.close();
  if (savedAlsaPath === undefined) delete process.env.ALSA_CONFIG_PATH;
  else process.env.ALSA_CONFIG_PATH = savedAlsaPath;
});

describe('ALSA microphone (arecord)', () => {
  it('delivers the captured audio, and the detector finds what it finds in the file', async () => {
    const expected = await detectFile(engine, CLIP);
    expect(expected).toHaveLength(2);
    engine.detector.reset();
    const mic = new AlsaMic({ device: devices.captureDevice, log: silentLogger() });
    const controller = new AbortController();
    const fileSamples = statSync(captureRaw).size / 2;
    const got: Detection[] = [];
    let samples = 0;
    const firstChunk: number[] = [];
    for await (const chunk of mic.chunks(controller.signal)) {
      if (firstChunk.length === 0) firstChunk.push(chunk.pcm.length);
      const take = chunk.pcm.subarray(0, Math.max(0, fileSamples - samples));
      got.push(...(await engine.detector.push({ ...chunk, pcm: take })));
      samples += chunk.pcm.length;
      if (samples >= fileSamples) controller.abort();
    }
    expect(got).toEqual(expected);
  });

  it('names the device when it cannot be opened', async () => {
    const mic = new AlsaMic({ device: 'no_such_device_here', log: silentLogger() });
    const err = await (async () => {
      for await (const _ of mic.chunks(new AbortController().signal)) {
        // a device that does not exist yields nothing
      }
    })().catch((e: unknown) => e);
    expect(isGlassesError(err, 'E_MIC_OPEN')).toBe(true);
    expect((err as Error).message).toContain('no_such_device_here');
  });
});

describe('ALSA speaker (aplay)', () => {
  it('plays the samples it is given, in order', async () => {
    const speaker = new AplaySpeaker({ device: devices.playbackDevice, log: silentLogger() });
    const pcm = Int16Array.from({ length: 8000 }, (_, i) => Math.round(3000 * Math.sin(i / 5)));
    const halves = [pcm.subarray(0, 3000), pcm.subarray(3000)].map((p, i) => ({
      pcm: p,
      sampleRateHz: 16000,
      channels: 1,
      tsMs: i === 0 ? 0 : 187.5,
    }));
    await speaker.play(halves, new AbortController().signal);
    const played = readFileSync(playbackRaw);
    const back = new Int16Array(played.buffer, played.byteOffset, Math.floor(played.length / 2));
    // aplay pads its last period with zeros.
    expect(Array.from(back.subarray(0, pcm.length))).toEqual(Array.from(pcm));
    expect(back.subarray(pcm.length).every((s) => s === 0)).toBe(true);
  });

  it('names the device when aplay cannot open it', async () => {
    const speaker = new AplaySpeaker({ device: 'no_such_speaker', log: silentLogger() });
    const err = await speaker
      .play(
        [{ pcm: new Int16Array(160), sampleRateHz: 16000, channels: 1, tsMs: 0 }],
        new AbortController().signal,
      )
      .catch((e: unknown) => e);
    expect(isGlassesError(err, 'E_SPEAKER_OPEN')).toBe(true);
    expect((err as Error).message).toContain('no_such_speaker');
  });
});

describe('glasses wake --mic', () => {
  it('prints detections live from the capture device and exits 0 on Ctrl-C', async () => {
    const cli = join(PACKAGE_ROOT, 'dist', 'firmware-ts', 'src', 'cli.js');
    const child = spawn(
      process.execPath,
      [cli, 'wake', '--log-level', 'warn', '--phrase', 'hey_jarvis', '--mic', devices.captureDevice],
      {
        env: devices.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    const lines = new Promise<string[]>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const done = stdout.split('\n').filter((l) => l.trim() !== '');
        if (done.length >= 2) resolve(done);
      });
    });
    const got = await lines;
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const parsed = got.slice(0, 2).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.map((p) => [p.device, p.phrase])).toEqual([
      [devices.captureDevice, 'hey_jarvis'],
      [devices.captureDevice, 'hey_jarvis'],
    ]);
  });
});
