/**
 * What `glasses run` runs: the live loop on the board's microphone, the same loop on a WAV file, or
 * the bundled demo. The demo plays a scripted conversation, makes development-cloud orders and
 * writes its answers as WAVs, so it runs only where nothing could be listening instead: asked for
 * with --demo, or on a machine with no capture device, no microphone in the config and not under
 * the board's service. A board whose microphone is a configured ALSA device (bluealsa, a plugin, a
 * codec ALSA does not list as pcmC*D*c) runs live.
 */
import { existsSync } from 'node:fs';
import { GlassesError } from '../errors.js';

export type RunMode = 'live' | 'file' | 'demo';

export interface RunModeInput {
  /** --demo */
  demo: boolean;
  /** --mic: an ALSA device or a WAV file */
  mic: string | undefined;
  /** audio.micDevice was set by the config file or a GLASSES_* variable. */
  micConfigured: boolean;
  /** --service: the board's unit (or service script) runs this process. */
  service: boolean;
  /** ALSA lists a capture device (/dev/snd/pcmC*D*c). */
  captureDevice: boolean;
}

/** Is `mic` a WAV file rather than an ALSA device name? */
export function isFileMic(mic: string): boolean {
  return mic.endsWith('.wav') || existsSync(mic);
}

export function runMode(input: RunModeInput): RunMode {
  if (input.demo) {
    if (input.service) {
      throw new GlassesError(
        'E_USAGE',
        'glasses run: --demo and --service together: the board service never plays the scripted demo',
      );
    }
    return 'demo';
  }
  if (input.mic !== undefined) return isFileMic(input.mic) ? 'file' : 'live';
  if (input.micConfigured || input.service || input.captureDevice) return 'live';
  return 'demo';
}

/**
 * Why a board service is not healthy on a file microphone: it would answer a recording, not the
 * wearer, and end when the file does. Undefined when nothing is wrong.
 */
export function serviceProblem(mode: RunMode, service: boolean, mic: string | undefined): string | undefined {
  if (!service || mode !== 'file') return undefined;
  return `E_MIC_OPEN: the service's microphone is the file ${mic ?? ''}, not a capture device: set audio.micDevice (GLASSES_AUDIO__MIC_DEVICE) and drop --mic`;
}
