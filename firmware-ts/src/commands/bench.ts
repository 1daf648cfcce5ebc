/** `glasses bench`: benchmarks of the on-device stages, each beside its peer. */
import { GlassesError } from '../errors.js';
import { COMMON_USAGE, type Command } from './command.js';

export const benchCommand: Command = {
  name: 'bench',
  summary:
    'benchmarks: `bench wake` (vs openwakeword-js), `bench voice` (reply latency, barge-in, idle CPU), `bench vision` (vs human, ocr-node), `bench cloud` (time added around cloud answers)',
  usage: `Usage: glasses bench wake [--json] [--rounds N] [--quick]
       glasses bench voice [--json] [--rounds N] [--idle-seconds S]
       glasses bench vision [--json] [--passes N] [--model centernet|nanodet] [--quick]
       glasses bench cloud [--json] [--rounds N]
${COMMON_USAGE}`,
  async run({ argv, out }) {
    const [what, ...rest] = argv;
    if (what === undefined || what === '--help' || what === '-h') {
      out(this.usage);
      return what === undefined ? 2 : 0;
    }
    if (what === 'voice') {
      const { benchVoice } = await import('../bench/voice.js');
      return benchVoice(rest, out);
    }
    if (what === 'vision') {
      const { benchVision } = await import('../bench/vision.js');
      return benchVision(rest, out);
    }
    if (what === 'cloud') {
      const { benchCloud } = await import('../bench/cloud.js');
      return benchCloud(rest, out);
    }
    if (what === 'wake') {
      const { benchWake } = await import('../bench/wake.js');
      return benchWake(rest, out);
    }
    throw new GlassesError(
      'E_USAGE',
      `glasses bench: unknown benchmark "${what}" (wake, voice, vision, cloud)`,
    );
  },
};
