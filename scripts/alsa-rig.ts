/**
 * The real-pace ALSA rig for a machine without a sound card (firmware-ts/dev/alsa-rig/rig.ts): a
 * capture device that hears a WAV at the pace of speech and a playback device recorded on the same
 * clock, so a live `glasses run` can be tried, and what it said heard where it said it.
 *
 *   npx tsx scripts/alsa-rig.ts --in SPEECH.wav --out HEARD.wav [--seconds N] [--dir DIR]
 *
 * It prints the ALSA_CONFIG_PATH and device names to give the runtime (in another terminal):
 *   ALSA_CONFIG_PATH=... npx glasses run --mic glasses_rig_capture --speaker glasses_rig_playback
 * and runs for the input's length plus 5 s (or --seconds), or until Ctrl-C; then HEARD.wav holds the
 * speaker's output, sample i at the time of the input's sample i.
 */
import { parseArgs } from 'node:util';
import { readWavAs16kMono, writeWav } from '../firmware-ts/src/audio/wav.js';
import { RIG_RATE_HZ, startAlsaRig } from '../firmware-ts/dev/alsa-rig/rig.js';

const { values } = parseArgs({
  options: {
    in: { type: 'string' },
    out: { type: 'string' },
    seconds: { type: 'string' },
    dir: { type: 'string' },
  },
});
if (values.out === undefined) {
  process.stderr.write(
    'usage: npx tsx scripts/alsa-rig.ts --in SPEECH.wav --out HEARD.wav [--seconds N] [--dir DIR]\n',
  );
  process.exit(2);
}
const input = values.in === undefined ? new Int16Array(0) : (await readWavAs16kMono(values.in)).pcm;
const seconds = values.seconds === undefined ? input.length / RIG_RATE_HZ + 5 : Number(values.seconds);
if (!Number.isFinite(seconds) || seconds <= 0) {
  process.stderr.write(`alsa-rig: --seconds ${values.seconds}: a positive number\n`);
  process.exit(2);
}
const rig = startAlsaRig({ input, ...(values.dir === undefined ? {} : { dir: values.dir }) });
process.stdout.write(
  `ALSA_CONFIG_PATH=${rig.env.ALSA_CONFIG_PATH}\ncapture: ${rig.captureDevice}\nplayback: ${rig.playbackDevice}\n`,
);
const stop = new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
await Promise.race([rig.until(seconds * 1000), stop]);
const heard = rig.stop();
await writeWav(values.out, heard, RIG_RATE_HZ, 1);
process.stdout.write(
  `alsa-rig: ${(heard.length / RIG_RATE_HZ).toFixed(1)} s written to ${values.out}; ${(rig.capturedSamples() / RIG_RATE_HZ).toFixed(1)} s of input reached a reader\n`,
);
