/** `glasses selftest`: does this board run the runtime? Models, wake phrase, photos, devices. */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { BoardRig } from '../board/selftest-rig.js';
import { renderSelftest, roundedReport, runSelftest, selftestPlan } from '../board/selftest.js';
import { GlassesError } from '../errors.js';
import { PACKAGE_VERSION, SAMPLES_DIR } from '../paths.js';
import { boot, COMMON_USAGE, parse, type Command } from './command.js';

export const selftestCommand: Command = {
  name: 'selftest',
  summary:
    'check this board runs the runtime: models, wake phrase, photos, speech, commands, microphone, speaker, camera',
  usage: `Usage: glasses selftest [--json]

Checks every model file against the manifest and loads it, runs the bundled wake phrase WAV and photos
(firmware-ts/assets/samples) through the wake pipeline, the object detector and the text reader,
synthesises a sentence with espeak-ng and a bundled command ("what time is it") that pocketsphinx must
recognise, as the voice loop does, and tries the configured microphone, speaker and camera
(audio.micDevice, audio.speakerDevice, camera.device). A microphone or speaker that is not there
fails, as does a missing espeak-ng or pocketsphinx; the camera is optional: skipped when it is not
there and camera.device is not set, failed when camera.device names one that is not there. Prints a
table of check, result (PASS, FAIL or SKIP), detail and milliseconds. Exits 0 only when nothing
failed.

Options:
  --json              print one JSON object instead: the checks, and what the pipeline saw (wake
                      detections, objects with scores and boxes, text read) for comparing two runs
${COMMON_USAGE}`,

  async run({ argv, out }) {
    const { values, positionals } = parse('selftest', argv, { json: { type: 'boolean' } });
    if (values.help === true) {
      out(this.usage);
      return 0;
    }
    if (positionals.length > 0) {
      throw new GlassesError('E_USAGE', `glasses selftest: unexpected argument ${positionals[0] ?? ''}`);
    }
    const { config, log } = boot(values);
    const started = performance.now();
    const rig = new BoardRig(config, log);
    let report;
    try {
      report = await runSelftest(
        selftestPlan(config, SAMPLES_DIR, existsSync),
        rig,
        () => performance.now(),
        (row) => {
          log.debug(row, 'selftest check done');
        },
      );
    } finally {
      await rig.close();
    }
    if (values.json === true) {
      out(
        JSON.stringify({
          version: PACKAGE_VERSION,
          node: process.version,
          platform: process.platform,
          arch: process.arch,
          cores: cpus().length,
          totalMs: Math.round(performance.now() - started),
          // kB on Linux: the peak while every model was loaded.
          maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
          ...roundedReport(report),
        }),
      );
    } else {
      out(
        `glasses ${PACKAGE_VERSION} on node ${process.version} ${process.platform}/${process.arch}, ${cpus().length} cores`,
      );
      out(renderSelftest(report));
    }
    return report.ok ? 0 : 1;
  },
};
