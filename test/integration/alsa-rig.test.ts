/**
 * The real-pace ALSA rig through real arecord and aplay: capture comes at the pace of speech with the
 * room's samples unchanged, nothing is heard by a microphone nobody reads, and what is played lands
 * in the output at the time it was played, for as long as it lasts.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { RIG_RATE_HZ, startAlsaRig } from '../../firmware-ts/dev/alsa-rig/rig.js';

function record(env: NodeJS.ProcessEnv, device: string, seconds: number): Promise<Int16Array> {
  return new Promise((resolve, reject) => {
    const rec = spawn(
      'arecord',
      ['-q', '-D', device, '-f', 'S16_LE', '-r', '16000', '-c', '1', '-t', 'raw', '-d', String(seconds)],
      { env: { ...process.env, ...env } },
    );
    const parts: Buffer[] = [];
    rec.stdout.on('data', (b: Buffer) => {
      parts.push(b);
    });
    rec.on('error', reject);
    rec.on('close', () => {
      const all = Buffer.concat(parts);
      resolve(new Int16Array(all.buffer.slice(all.byteOffset, all.byteOffset + all.length)));
    });
  });
}

function play(env: NodeJS.ProcessEnv, device: string, pcm: Int16Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('aplay', ['-q', '-D', device, '-f', 'S16_LE', '-r', '16000', '-c', '1', '-t', 'raw'], {
      env: { ...process.env, ...env },
    });
    p.on('error', reject);
    p.on('close', () => {
      resolve();
    });
    p.stdin.end(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  });
}

describe('the ALSA rig', () => {
  it('captures at 16 kHz of wall time, the room unchanged; plays back aligned with it', async () => {
    // A ramp that never repeats within the 4 s: each stretch of it is found at one place only.
    const room = Int16Array.from({ length: 4 * RIG_RATE_HZ }, (_, i) => Math.floor(i / 3) - 10_000);
    const rig = startAlsaRig({ input: room });
    try {
      // Nobody records for the first half second: that audio is gone, as from a real microphone.
      await rig.until(500);
      const started = rig.elapsedMs();
      const got = await record(rig.env, rig.captureDevice, 1);
      const took = rig.elapsedMs() - started;
      expect(got.length).toBe(RIG_RATE_HZ);
      expect(took).toBeGreaterThan(850);
      // What arecord got is the room from where it opened (a period boundary), sample for sample.
      const at = Array.from({ length: 32 }, (_, k) => k * 2000).find((f) =>
        got.every((v, i) => v === room[f + i]),
      );
      expect(at).toBeDefined();
      expect((at ?? 0) / 16).toBeGreaterThanOrEqual(450);

      const tone = new Int16Array(RIG_RATE_HZ).fill(5000);
      const playAt = rig.elapsedMs();
      await play(rig.env, rig.playbackDevice, tone);
      // aplay is held to the pace too (a 128 ms pipe), not done at once.
      expect(rig.elapsedMs() - playAt).toBeGreaterThan(800);
      await rig.until(rig.elapsedMs() + 300);
      const out = rig.stop();
      const firstMs = out.indexOf(5000) / 16;
      expect(firstMs).toBeGreaterThanOrEqual(playAt - 20);
      expect(firstMs).toBeLessThan(playAt + 200);
      expect(out.filter((v) => v === 5000).length).toBe(RIG_RATE_HZ);
    } finally {
      rig.stop();
    }
  });
});
