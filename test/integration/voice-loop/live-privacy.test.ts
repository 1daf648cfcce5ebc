/**
 * `glasses run` on the board's path, a microphone device: a file-backed ALSA capture device through
 * real arecord, the answer through real aplay. The board's unit sends the command's output to the
 * journal, so what the wearer said and what the glasses answered must not be in it unless asked for.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';
import { makeAlsaFileDevices } from '../../helpers/alsa.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'firmware-ts', 'src', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'live-privacy-'));
let devices: Awaited<ReturnType<typeof makeAlsaFileDevices>>;

beforeAll(async () => {
  devices = await makeAlsaFileDevices({
    captureRaw: join(dir, 'capture.raw'),
    playbackRaw: join(dir, 'playback.raw'),
    dir,
  });
  // The default wake phrase, a pause, the request, then silence (the capture device repeats its end).
  const wav = join(dir, 'request.wav');
  execFileSync('sh', [
    '-c',
    `espeak-ng -v en-us -s 150 -w "${dir}/w.wav" "hey quark" && espeak-ng -v en-us -s 160 -w "${dir}/r.wav" "louder" && ` +
      `sox -R -D "${dir}/w.wav" -r 16000 -c 1 -b 16 "${dir}/w16.wav" && sox -R -D "${dir}/r.wav" -r 16000 -c 1 -b 16 "${dir}/r16.wav" && ` +
      `sox -R -D "${dir}/w16.wav" "|sox -n -r 16000 -c 1 -p trim 0 0.4" "${dir}/r16.wav" "${wav}" pad 1 3`,
  ]);
  const pcm = new Int16Array(readFileSync(wav).buffer.slice(44));
  const raw = new Int16Array(pcm.length + 16000);
  raw.set(pcm);
  writeFileSync(join(dir, 'capture.raw'), Buffer.from(raw.buffer));
});

/** `glasses run` on the capture device until it has said its answer (then SIGTERM): all it printed. */
function runLive(extra: string[]): Promise<{ output: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    writeFileSync(join(dir, 'playback.raw'), '');
    const child = spawn(
      process.execPath,
      [CLI, 'run', '--mic', devices.captureDevice, '--speaker', devices.playbackDevice, ...extra],
      // A folder of its own: the live run's outbox goes under the working directory.
      { cwd: mkdtempSync(join(dir, 'cwd-')), env: devices.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    let stopped = false;
    const deadline = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const onData = (d: Buffer): void => {
      output += d.toString();
      // The say line is printed once the answer has been played.
      if (!stopped && (/^\s*[\d.]+s\s+say\s/m.test(output) || /"type":"say"/.test(output))) {
        stopped = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(deadline);
      resolve({ output, code });
    });
  });
}

describe('glasses run on a microphone device', () => {
  it('prints neither what the wearer said nor the answer, in the timeline or the logs', async () => {
    const { output, code } = await runLive([]);
    expect(output).not.toMatch(/louder/i);
    expect(output).not.toMatch(/volume/i);
    // Yet it did hear and answer, and says so.
    expect(output).toMatch(/intent\s+a command\s+\(\d+ ms on device\)/);
    expect(output).toMatch(/say\s+an answer made on the device/);
    expect(code).toBe(0);
    // A live run writes no audio: nothing to list.
    expect(output).not.toContain('audio written');
  }, 90_000);

  it('leaves them out of --json too', async () => {
    const { output } = await runLive(['--json']);
    const events = output
      .split('\n')
      .filter((l) => l.startsWith('{"type"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.find((e) => e.type === 'intent')).toMatchObject({ accepted: true });
    expect(events.find((e) => e.type === 'say')).toMatchObject({ source: 'device', completed: true });
    expect(output).not.toMatch(/louder/i);
    expect(output).not.toMatch(/volume/i);
  }, 90_000);

  it.each([['--show-content'], ['--log-level', 'debug']])(
    'shows them when the engineer asks, with %s',
    async (...flags) => {
      const { output } = await runLive(flags);
      expect(output).toMatch(/intent\s+louder\s+"louder"/);
      expect(output).toContain('say       "Volume 8 of 10."');
    },
    90_000,
  );
});
