/**
 * "battery" through the real loop reads the power-supply folder config names (battery.powerSupplyDir):
 * a fake fuel gauge here, /sys/class/power_supply on the board.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeWav, readWavAs16kMono } from '../../../firmware-ts/src/audio/wav.js';
import { loadConfig } from '../../../firmware-ts/src/config.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import { createClock, createFileMic, createSpeaker, createVoiceLoop } from '../../../firmware-ts/src/main.js';
import { PACKAGE_ROOT, SAMPLES_DIR } from '../../../firmware-ts/src/paths.js';
import type { RunEvent } from '../../../firmware-ts/src/voice-loop/runner.js';

const dir = mkdtempSync(join(tmpdir(), 'battery-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the battery answer', () => {
  it('reads the capacity of the battery in battery.powerSupplyDir', async () => {
    const supplies = join(dir, 'power_supply');
    // A mains adapter listed first: only the supply of type Battery counts.
    mkdirSync(join(supplies, 'AC'), { recursive: true });
    writeFileSync(join(supplies, 'AC', 'type'), 'Mains\n');
    mkdirSync(join(supplies, 'BAT0'));
    writeFileSync(join(supplies, 'BAT0', 'type'), 'Battery\n');
    writeFileSync(join(supplies, 'BAT0', 'capacity'), '73\n');

    const wake = await readWavAs16kMono(join(SAMPLES_DIR, 'hey_quark.wav'));
    const command = await readWavAs16kMono(
      join(PACKAGE_ROOT, 'test', 'fixtures', 'generated', 'speech', 'commands', 'battery__en-us_160.wav'),
    );
    const pcm = new Int16Array(wake.pcm.length + command.pcm.length + 16_000);
    pcm.set(wake.pcm);
    pcm.set(command.pcm, wake.pcm.length);
    const micFile = join(dir, 'hey_quark_battery.wav');
    writeFileSync(micFile, encodeWav(pcm, 16_000, 1));

    const clock = createClock('file');
    const events: RunEvent[] = [];
    const config = loadConfig({ env: { GLASSES_BATTERY__POWER_SUPPLY_DIR: supplies } });
    const loop = await createVoiceLoop(config, silentLogger(), {
      mic: createFileMic(micFile, 'fast', clock),
      speaker: createSpeaker({ file: join(dir, 'said.wav'), clock }, silentLogger()),
      pace: 'file',
      clock,
      onEvent: (e) => events.push(e),
    });
    try {
      await loop.runner.run(new AbortController().signal);
    } finally {
      await loop.close();
    }
    expect(events.find((e) => e.type === 'intent')).toMatchObject({ name: 'battery', accepted: true });
    expect(events.find((e) => e.type === 'say')).toMatchObject({ text: 'The battery is at 73 percent.' });
  });
});
