/** `glasses doctor`: what on this board stops or slows the runtime, and how to fix each. */
import { resolve } from 'node:path';
import { doctorOk, renderDoctor, runDoctor } from '../board/doctor.js';
import { SystemPort } from '../board/system.js';
import { isConfigured } from '../config.js';
import { GlassesError } from '../errors.js';
import { fromRoot, PACKAGE_VERSION } from '../paths.js';
import { boot, COMMON_USAGE, parse, type Command } from './command.js';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'diagnose the board: sound devices, camera, models, disk, memory, CPU, tools; how to fix each',
  usage: `Usage: glasses doctor [--json]

Looks at what the runtime needs from this board and says how to fix what is wrong: the ALSA capture and
playback devices (arecord -l / aplay -l, and whether audio.micDevice and audio.speakerDevice open), the
camera (camera.device readable, ffmpeg present), the model files against the manifest, the order
outbox (orders.outboxDir: an entry that cannot be read stops new orders), free disk space
in the working and models folders, memory, CPU features, and the programs the runtime runs (espeak-ng,
arecord, aplay, ffmpeg, pocketsphinx). Nothing is loaded or changed. Exits 1 when a check fails;
warnings alone exit 0. The camera is optional: missing while camera.device is not set, it (and ffmpeg)
is a warning; once camera.device is set, the board must have it.

Options:
  --json              print one JSON object: {"ok", "checks": [{"check","result","detail","fix"}]}
${COMMON_USAGE}`,

  async run({ argv, out }) {
    const { values, positionals } = parse('doctor', argv, { json: { type: 'boolean' } });
    if (values.help === true) {
      out(this.usage);
      return 0;
    }
    if (positionals.length > 0) {
      throw new GlassesError('E_USAGE', `glasses doctor: unexpected argument ${positionals[0] ?? ''}`);
    }
    const { config } = boot(values);
    const modelsDir = fromRoot(config.models.dir);
    const rows = await runDoctor(
      {
        micDevice: config.audio.micDevice,
        speakerDevice: config.audio.speakerDevice,
        cameraDevice: config.camera.device,
        cameraConfigured: isConfigured(config, 'camera.device'),
        workDir: process.cwd(),
        modelsDir,
        outboxDir: resolve(config.orders.outboxDir),
      },
      new SystemPort(modelsDir),
    );
    const ok = doctorOk(rows);
    if (values.json === true) {
      out(JSON.stringify({ version: PACKAGE_VERSION, ok, checks: rows }));
    } else {
      out(renderDoctor(rows));
    }
    return ok ? 0 : 1;
  },
};
