/** `glasses models`: list the models manifest and check every file against it. */
import { GlassesError, isGlassesError } from '../errors.js';
import { loadManifest, verifiedModelPath } from '../models/manifest.js';
import { fromRoot } from '../paths.js';
import { boot, COMMON_USAGE, parse, type Command } from './command.js';

export const modelsCommand: Command = {
  name: 'models',
  summary: 'list the models manifest and verify each file (sha256, size)',
  usage: `Usage: glasses models [--json]

Prints each model with its kind, source package, licence and whether its file matches the manifest.
Exits 1 if any file is missing or does not match.

Options:
  --json              one JSON line per model
${COMMON_USAGE}`,

  async run({ argv, out }) {
    const { values } = parse('models', argv, { json: { type: 'boolean' } });
    if (values.help === true) {
      out(this.usage);
      return 0;
    }
    const { config } = boot(values);
    const dir = fromRoot(config.models.dir);
    const manifest = await loadManifest(dir);
    let bad = 0;
    for (const m of manifest.models) {
      let status = 'ok';
      try {
        await verifiedModelPath(dir, m);
      } catch (err) {
        if (!isGlassesError(err)) throw err;
        bad++;
        status = `${err.code}: ${err.message}`;
      }
      const source = `${m.source.package}@${m.source.version}`;
      out(
        values.json === true
          ? JSON.stringify({ name: m.name, kind: m.kind, file: m.file, source, licence: m.licence, status })
          : `${m.name.padEnd(16)} ${m.kind.padEnd(14)} ${m.licence.padEnd(17)} ${source.padEnd(34)} ${status}`,
      );
    }
    if (bad > 0)
      throw new GlassesError(
        'E_MODEL_CHECKSUM',
        `${bad} of ${manifest.models.length} model files do not match ${dir}/manifest.json`,
      );
    return 0;
  },
};
