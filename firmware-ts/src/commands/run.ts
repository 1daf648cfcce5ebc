/**
 * `glasses run`: the main job. Until the voice loop lands, it listens for the wake phrase: on the
 * board from the ALSA microphone, and on a machine without one over the bundled sample utterances.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isGlassesError } from '../errors.js';
import { createAlsaMic, createClock, createFileMic, createWakeEngine } from '../main.js';
import type { Mic } from '../hal/mic.js';
import { SAMPLES_DIR } from '../paths.js';
import { boot, COMMON_USAGE, parse, round, untilInterrupted, type Command } from './command.js';

export const runCommand: Command = {
  name: 'run',
  summary: 'the runtime: listen for the wake phrase (bundled samples when --demo or no microphone)',
  usage: `Usage: glasses run [--mic DEVICE | --demo] [--realtime]

Listens for the configured wake phrases and prints one JSON line per detection. With --demo (or
with no ALSA capture device present) it replays the bundled sample utterances through the same
pipeline instead of a microphone.

Options:
  --mic DEVICE        ALSA capture device (default: config audio.micDevice)
  --demo              replay the bundled samples (${SAMPLES_DIR})
  --realtime          replay samples at the pace they would be heard (default: as fast as possible)
${COMMON_USAGE}`,

  async run({ argv, out }) {
    const { values } = parse('run', argv, {
      mic: { type: 'string' },
      demo: { type: 'boolean' },
      realtime: { type: 'boolean' },
    });
    if (values.help === true) {
      out(this.usage);
      return 0;
    }
    const { config, log } = boot(values);
    const runLog = log.child({ component: 'run' });
    const demo = values.demo === true || (values.mic === undefined && !hasCaptureDevice());
    const engine = await createWakeEngine(config, log);
    const clock = createClock();
    try {
      const sources: { label: string; mic: Mic }[] = demo
        ? readdirSync(SAMPLES_DIR)
            .filter((f) => f.endsWith('.wav'))
            .sort()
            .map((f) => ({
              label: f,
              mic: createFileMic(join(SAMPLES_DIR, f), values.realtime === true ? 'realtime' : 'fast', clock),
            }))
        : [
            {
              label: values.mic ?? config.audio.micDevice,
              mic: createAlsaMic(values.mic ?? config.audio.micDevice, log),
            },
          ];
      if (demo)
        runLog.info(
          { samples: sources.length, dir: SAMPLES_DIR },
          'no microphone: replaying the bundled samples',
        );
      await untilInterrupted(async (signal) => {
        for (const { label, mic } of sources) {
          engine.detector.reset();
          const started = clock.now();
          for await (const chunk of mic.chunks(signal)) {
            for (const d of await engine.detector.push(chunk)) {
              out(
                JSON.stringify({
                  type: 'wake',
                  source: label,
                  phrase: d.phrase,
                  atMs: d.atMs,
                  score: round(d.score),
                }),
              );
            }
          }
          runLog.info({ source: label, ms: Math.round(clock.now() - started) }, 'source done');
        }
      });
      return 0;
    } catch (err) {
      if (isGlassesError(err)) runLog.error({ code: err.code }, err.message);
      throw err;
    } finally {
      await engine.close();
    }
  },
};

/** A capture device exists when ALSA lists one; on CI and fresh dev machines none does. */
function hasCaptureDevice(): boolean {
  try {
    return readdirSync('/dev/snd').some((f) => /^pcmC\d+D\d+c$/.test(f));
  } catch {
    return false;
  }
}
