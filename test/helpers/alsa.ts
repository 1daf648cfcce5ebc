import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Fake ALSA devices backed by files, for machines without a sound card (CI).
 *
 * Verified with alsa-lib 1.2.8 / arecord 1.2.8:
 * - Capture returns the bytes of `captureRaw` unchanged, as fast as the reader can take them
 *   (the null slave has no clock, so there is no real-time pacing).
 * - At the end of `captureRaw`, arecord neither blocks nor exits: it keeps returning, at full speed,
 *   a copy of its last period buffer (2000 frames = 4000 bytes at 16 kHz with arecord's defaults),
 *   i.e. a loop of the file's tail. A test knows the file ended when it has read
 *   `(await stat(captureRaw)).size` bytes; end the file with >= 1 s of zeros so anything read past
 *   the end is silence, then kill arecord.
 * - Playback writes exactly what aplay sends into `playbackRaw` (truncated on each open, mode 0600).
 *   aplay pads its last period with zeros, so the file is the input followed by up to 3998 zero bytes.
 * - Neither device converts anything: the bytes are whatever format/rate/channels the client asked for.
 */
export async function makeAlsaFileDevices(opts: {
  captureRaw: string;
  playbackRaw: string;
  dir: string;
}): Promise<{ env: NodeJS.ProcessEnv; captureDevice: string; playbackDevice: string }> {
  const dir = path.resolve(opts.dir);
  // alsa-lib splits ALSA_CONFIG_PATH on ':' and whitespace, so the config path cannot contain them.
  if (/[\s:]/.test(dir)) throw new Error(`ALSA config dir must not contain spaces or colons: ${dir}`);
  await mkdir(dir, { recursive: true });

  const captureDevice = 'glasses_test_capture';
  const playbackDevice = 'glasses_test_playback';
  // ALSA config strings are double-quoted with backslash escapes.
  const q = (s: string): string => `"${path.resolve(s).replace(/[\\"]/g, '\\$&')}"`;

  // ALSA_CONFIG_PATH replaces the top-level config, so pull in the system one first: it keeps the
  // standard definitions (and /etc/asound.conf, ~/.asoundrc) for anything else ALSA opens in this env.
  const systemConf = '/usr/share/alsa/alsa.conf';
  const hasSystemConf = await access(systemConf).then(
    () => true,
    () => false,
  );

  const conf = [
    hasSystemConf ? `<${systemConf}>` : '',
    `pcm.${captureDevice} {`,
    '  type file',
    // Inline null slave (instead of "null" from alsa.conf): accepts any format, always ready, no clock.
    '  slave.pcm { type null }',
    // The file plugin refuses to open without `file` (what it would record); discard it.
    '  file "/dev/null"',
    // Every read from the device is overwritten with the next bytes of this file.
    `  infile ${q(opts.captureRaw)}`,
    // Raw = no WAV header, bytes as-is (the default would be raw too; explicit for clarity).
    '  format "raw"',
    '}',
    `pcm.${playbackDevice} {`,
    '  type file',
    '  slave.pcm { type null }',
    // Everything played is appended here (the file is truncated when the device is opened).
    `  file ${q(opts.playbackRaw)}`,
    '  format "raw"',
    '}',
    '',
  ].join('\n');

  const confPath = path.join(dir, 'asound.conf');
  await writeFile(confPath, conf);
  return { env: { ...process.env, ALSA_CONFIG_PATH: confPath }, captureDevice, playbackDevice };
}
