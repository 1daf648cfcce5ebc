import { describe, expect, it } from 'vitest';
import { runMode, serviceProblem, type RunModeInput } from '../../../firmware-ts/src/commands/run-mode.js';

const none: RunModeInput = {
  demo: false,
  mic: undefined,
  micConfigured: false,
  service: false,
  captureDevice: false,
};

describe('what glasses run runs', () => {
  it.each<[string, Partial<RunModeInput>, ReturnType<typeof runMode>]>([
    ['nothing to listen to: the demo', {}, 'demo'],
    ['--demo', { demo: true }, 'demo'],
    ['--demo beside a capture device', { demo: true, captureDevice: true }, 'demo'],
    ['a capture device ALSA lists', { captureDevice: true }, 'live'],
    // A board whose microphone ALSA does not list as pcmC*D*c (bluealsa, a plugin): it was the demo.
    ['audio.micDevice configured, no capture device listed', { micConfigured: true }, 'live'],
    ['under the service, nothing listed or configured', { service: true }, 'live'],
    ['--mic DEVICE', { mic: 'plughw:1,0' }, 'live'],
    ['--mic FILE.wav', { mic: 'request.wav' }, 'file'],
    ['--mic FILE.wav under the service', { mic: 'request.wav', service: true }, 'file'],
  ])('%s', (_what, input, mode) => {
    expect(runMode({ ...none, ...input })).toBe(mode);
  });

  it('refuses --demo under the service', () => {
    expect(() => runMode({ ...none, demo: true, service: true })).toThrow(/--demo and --service/);
  });

  it('a file microphone is a health problem under the service only', () => {
    expect(serviceProblem('file', true, 'a.wav')).toMatch(/^E_MIC_OPEN: .*a\.wav.*audio\.micDevice/);
    expect(serviceProblem('file', false, 'a.wav')).toBeUndefined();
    expect(serviceProblem('live', true, 'default')).toBeUndefined();
  });
});
