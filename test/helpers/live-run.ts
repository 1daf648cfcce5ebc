/**
 * `glasses run` (the built CLI) live on the real-pace ALSA rig, as the tests of the live path run it:
 * the rig's devices as the configured microphone and speaker, a health report to know when the loop
 * listens, the wearer's request said then, the answer let play, then SIGTERM as the unit would stop it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RIG_RATE_HZ, startAlsaRig, type AlsaRig } from '../../firmware-ts/dev/alsa-rig/rig.js';
import type { HealthReport } from '../../firmware-ts/src/health.js';
import { CLI } from '../integration/board/cli.js';

/** A live runtime's health report when all is well: listening, and it could speak, understand and play at start. */
export const HEALTHY_LIVE = {
  ok: true,
  micOpen: true,
  loopRunning: true,
  speech: { checked: true, ok: true },
  recognizer: { checked: true, ok: true },
  speaker: { checked: true, ok: true },
  problems: [],
} as const;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function readHealth(file: string): HealthReport | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as HealthReport;
  } catch {
    return undefined;
  }
}

export interface LiveRun {
  stdout: string;
  stderr: string;
  code: number | null;
  /** The health report once the loop ran, before the stop. */
  health: HealthReport | undefined;
  /** What the speaker gave, and the rig sample the wearer started speaking at. */
  heard: Int16Array;
  spokeAt: number;
  requestSamples: number;
  cwd: string;
}

/**
 * Starts `glasses run ARGS` on the rig, waits for its loop (the health report), says the request,
 * lets the answer play, then stops it with SIGTERM as the unit would.
 */
export async function runOnRig(
  dir: string,
  request: Int16Array,
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<LiveRun> {
  const rig: AlsaRig = startAlsaRig({ dir: mkdtempSync(join(dir, `${name}-rig-`)) });
  const cwd = mkdtempSync(join(dir, `${name}-cwd-`));
  const healthFile = join(cwd, 'health.json');
  const child = spawn(process.execPath, [CLI, 'run', ...args], {
    cwd,
    env: {
      ...process.env,
      ...rig.env,
      GLASSES_AUDIO__MIC_DEVICE: rig.captureDevice,
      GLASSES_AUDIO__SPEAKER_DEVICE: rig.playbackDevice,
      GLASSES_HEALTH__FILE: healthFile,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  const state = { exited: false };
  void closed.then(() => {
    state.exited = true;
  });
  try {
    let health: HealthReport | undefined;
    for (let i = 0; i < 900 && !state.exited; i++) {
      health = readHealth(healthFile);
      if (health?.loopRunning === true && health.micOpen) break;
      await sleep(100);
    }
    if (state.exited || health?.loopRunning !== true)
      throw new Error(`${name}: the loop never ran:\n${stderr}`);
    const spokeAt = rig.say(request);
    // The request, then the answer (about 2 s) and its aplay.
    await rig.until((spokeAt / RIG_RATE_HZ) * 1000 + (request.length / RIG_RATE_HZ) * 1000 + 4000);
    health = readHealth(healthFile);
    child.kill('SIGTERM');
    const code = await closed;
    return { stdout, stderr, code, health, heard: rig.stop(), spokeAt, requestSamples: request.length, cwd };
  } finally {
    child.kill('SIGKILL');
    rig.stop();
  }
}
