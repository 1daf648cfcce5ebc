/** `glasses build`: the signed bundle of the runtime for a board (see bundle/build.ts). */
import { resolve } from 'node:path';
import { GlassesError } from '../errors.js';
import { COMMON_USAGE, boot, parse, type Command } from './command.js';

export const buildCommand: Command = {
  name: 'build',
  summary: 'build the signed bundle for a board: bundles/glasses-<version>-linux-<arch>.tar.gz',
  usage: `Usage: glasses build --arch arm64|x64 [--out DIR] [--key-dir DIR] [--root DIR] [--non-commercial-models] [--json]

Compiles the TypeScript, installs the production node_modules for linux-<arch> (npm ci with the
lockfile), prunes other platforms' binaries, adds the assets, the models (checked against
models/manifest.json) and the systemd unit, signs MANIFEST.json with ed25519 and packs a tarball
that is byte-for-byte the same for the same sources. Runs in a source checkout after \`npm ci\`.
Models whose licence forbids commercial use (openWakeWord's pretrained heads, CC BY-NC-SA) are left
out unless --non-commercial-models is given.

Options:
  --arch ARCH         arm64 (the boards) or x64
  --out DIR           where the .tar.gz goes (default: bundles/ in the package root)
  --key-dir DIR       signing keys, made on first use (default: .keys/ in the package root)
  --root DIR          the source checkout to build (default: this package), e.g. a clean git worktree
  --non-commercial-models
                      also carry models licensed for non-commercial use only (development boards)
  --json              print the result as one JSON object
${COMMON_USAGE}`,

  async run({ argv, out }) {
    const { values, positionals } = parse('build', argv, {
      arch: { type: 'string' },
      out: { type: 'string' },
      'key-dir': { type: 'string' },
      root: { type: 'string' },
      'non-commercial-models': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (values.help === true) {
      out(this.usage);
      return 0;
    }
    if (positionals.length > 0)
      throw new GlassesError('E_USAGE', `glasses build: unexpected argument "${positionals.join(' ')}"`);
    const arch = values.arch;
    if (arch !== 'arm64' && arch !== 'x64')
      throw new GlassesError(
        'E_USAGE',
        `glasses build: --arch must be arm64 or x64${arch === undefined ? '' : `, not "${arch}"`}`,
      );
    const { log } = boot(values);
    // Loaded here, not at the top: a board runs other commands and never builds.
    const { buildBundle } = await import('../bundle/build.js');
    const r = await buildBundle({
      arch,
      ...(values.out === undefined ? {} : { outDir: resolve(values.out) }),
      ...(values['key-dir'] === undefined ? {} : { keyDir: resolve(values['key-dir']) }),
      ...(values.root === undefined ? {} : { root: resolve(values.root) }),
      nonCommercial: values['non-commercial-models'] === true,
      log: log.child({ component: 'build' }),
    });
    if (values.json === true) out(JSON.stringify(r));
    else
      out(
        [
          `file     ${r.file}`,
          `sha256   ${r.sha256}`,
          `size     ${r.bytes} bytes (${(r.bytes / 1e6).toFixed(1)} MB; ${(r.unpackedBytes / 1e6).toFixed(1)} MB unpacked)`,
          `files    ${r.files}`,
          `models   ${r.models.length}${r.leftOutModels.length === 0 ? '' : ` (left out, non-commercial licence: ${r.leftOutModels.join(', ')})`}`,
          `version  ${r.version} linux-${r.arch}, built in ${r.seconds.toFixed(1)} s`,
        ].join('\n'),
      );
    return 0;
  },
};
