/** `glasses wake`: wake phrase detection over WAV files, or live from an ALSA microphone. */
import { promises as fs } from 'node:fs';
import { listAudioFolder } from '../audio/files.js';
import { streamWavAs16kMono } from '../audio/wav.js';
import { rechunk } from '../audio/chunk.js';
import { GlassesError, isGlassesError, messageOf } from '../errors.js';
import { createAlsaMic, createWakeEngine } from '../main.js';
import { boot, COMMON_USAGE, parse, round, scoreFlag, untilInterrupted, type Command } from './command.js';

export const wakeCommand: Command = {
  name: 'wake',
  summary: 'detect wake phrases in WAV files, or live with --mic',
  usage: `Usage: glasses wake [--phrase NAME]... [--vad] FILE.wav|DIR...
       glasses wake [--phrase NAME]... [--vad] --mic [DEVICE]

Prints one JSON line per detection: {"file","phrase","atMs","score"} (atMs from the start of the
file), or {"device","phrase","atMs","score"} with --mic, live until Ctrl-C. Any WAV is accepted:
other rates and channel counts are resampled and downmixed to 16 kHz mono. A folder stands for
every WAV under it (sub-folders too), as in glasses eval wake; its other files are counted, not read.

Options:
  --phrase NAME       wake head to load (repeatable; default: config wake.phrases)
  --threshold X       score threshold 0..1 for every phrase (default: config)
  --vad               gate detections with Silero VAD
  --chunk N           feed files in chunks of N samples (default 1280; results do not depend on it)
  --mic [DEVICE]      listen on an ALSA capture device (default: config audio.micDevice)
${COMMON_USAGE}`,

  async run({ argv, out }) {
    // `--mic` takes an optional device: `--mic` alone means the configured default.
    const micAt = argv.indexOf('--mic');
    let micDevice: string | undefined;
    if (micAt >= 0) {
      const next = argv[micAt + 1];
      const hasDevice = next !== undefined && !next.startsWith('-');
      micDevice = hasDevice ? next : '';
      argv = [...argv.slice(0, micAt), ...argv.slice(micAt + (hasDevice ? 2 : 1))];
    }
    const { values, positionals } = parse('wake', argv, {
      phrase: { type: 'string', multiple: true },
      threshold: { type: 'string' },
      vad: { type: 'boolean' },
      chunk: { type: 'string' },
    });
    if (values.help === true) {
      out(this.usage);
      return 0;
    }
    if (micDevice === undefined && positionals.length === 0) {
      throw new GlassesError('E_USAGE', 'glasses wake: give WAV files or --mic (see glasses wake --help)');
    }
    if (micDevice !== undefined && positionals.length > 0) {
      throw new GlassesError('E_USAGE', 'glasses wake: --mic listens live; do not also give files');
    }
    const chunk = values.chunk === undefined ? 1280 : Number(values.chunk);
    if (!Number.isInteger(chunk) || chunk < 1) {
      throw new GlassesError(
        'E_USAGE',
        `glasses wake: --chunk ${values.chunk ?? ''}: expected a positive whole number of samples`,
      );
    }
    const threshold = scoreFlag('wake', 'threshold', values.threshold);
    const { config, log } = boot(values);
    // --threshold replaces every per-phrase and trained threshold too, so the flag means what it says.
    const engine = await createWakeEngine(config, log, {
      ...(values.phrase === undefined ? {} : { phrases: values.phrase }),
      ...(threshold === undefined ? {} : { threshold }),
      ...(values.vad === true ? { vadGate: true } : {}),
    });
    try {
      if (micDevice !== undefined) {
        const device = micDevice === '' ? config.audio.micDevice : micDevice;
        await untilInterrupted(async (signal) => {
          for await (const c of createAlsaMic(device, log).chunks(signal)) {
            for (const d of await engine.detector.push(c)) {
              out(JSON.stringify({ device, phrase: d.phrase, atMs: d.atMs, score: round(d.score) }));
            }
          }
        });
        return 0;
      }
      let failed = 0;
      let badFolders = 0;
      const files: string[] = [];
      for (const arg of positionals) {
        if (!(await isFolder(arg))) {
          files.push(arg);
          continue;
        }
        try {
          const folder = await listAudioFolder(arg);
          files.push(...folder.files);
          const skipped = folder.skipped.length;
          if (skipped > 0)
            log.info({ folder: arg, skipped }, `${arg}: ${skipped} files that are not audio skipped`);
        } catch (err) {
          if (!isGlassesError(err)) throw err;
          failed++;
          badFolders++;
          log.error({ code: err.code, file: arg }, err.message);
        }
      }
      for (const file of files) {
        engine.detector.reset();
        try {
          // Streamed: a file of any length is held a second at a time.
          for await (const c of rechunk(streamWavAs16kMono(file), chunk)) {
            for (const d of await engine.detector.push(c)) {
              out(JSON.stringify({ file, phrase: d.phrase, atMs: d.atMs, score: round(d.score) }));
            }
          }
        } catch (err) {
          if (!isGlassesError(err)) throw err;
          // Name the file and carry on with the others; the exit code reports the failure.
          failed++;
          log.error({ code: err.code, file }, err.message);
        }
      }
      if (failed > 0) {
        // A folder that could not be listed counts as one.
        const total = files.length + badFolders;
        log.error({ failed, total }, `${failed} of ${total} files could not be read`);
      }
      return failed > 0 ? 1 : 0;
    } catch (err) {
      throw isGlassesError(err) ? err : new Error(`glasses wake: ${messageOf(err)}`, { cause: err });
    } finally {
      await engine.close();
    }
  },
};

async function isFolder(path: string): Promise<boolean> {
  return fs.stat(path).then(
    (s) => s.isDirectory(),
    // A path that cannot be read is named when it is read as a file.
    () => false,
  );
}
