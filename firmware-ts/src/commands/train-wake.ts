/** `glasses train-wake`: trains our own wake head for a phrase, exports it to ONNX and reports how well it does. */
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { thresholdFor } from '../config.js';
import { GlassesError } from '../errors.js';
import type { InferenceModel } from '../inference/model.js';
import {
  findModel,
  isOwnModel,
  loadManifest,
  MANIFEST_FILE,
  writeManifest,
  type ModelEntry,
} from '../models/manifest.js';
import { createOnnxLoader, openModels, useTfjsBackend } from '../main.js';
import { fromRoot, PACKAGE_LICENCE, PACKAGE_ROOT, PACKAGE_VERSION } from '../paths.js';
import { ENSEMBLE_HEADS, MAX_ENSEMBLE_HEADS } from '../wake-train/train/ensemble.js';
import type { HeadSummary } from '../wake-train/train/report.js';
import {
  boot,
  COMMON_USAGE,
  numberFlag,
  parse,
  untilInterrupted,
  usageError,
  type Command,
} from './command.js';

const NAME = /^[a-z0-9_]+$/;

export const trainWakeCommand: Command = {
  name: 'train-wake',
  summary: 'train our own wake head for a phrase: data, features, training, ONNX export, DET report',
  usage: `Usage: glasses train-wake --phrase "hey quark" [--name hey_quark] [--smoke] [--seed N] [--heads K] [--out DIR] [--json]

Generates (or reuses, from .cache/wake-data/) training audio for the phrase from espeak-ng (English
and other languages' voices), flite and festival, augmented by sox and in code (formant warping,
image-source rooms, noise), computes the runtime's own wake features for it on every core (cached in
.cache/wake-features/), trains a head with TF.js and a second-stage verifier on the head's false
accepts, chooses their thresholds on held-out voices (on a logit grid), ships the pair when it beats
the head alone there, exports each to ONNX and checks the files against the TF.js models on every
validation window. Writes DIR/NAME.onnx (and DIR/NAME_verifier.onnx), DIR/NAME.report.json and
DIR/NAME.det.png, and, when DIR is the models folder, puts the entries (sha256, licence, threshold)
into its manifest; otherwise prints them. Progress goes to stderr.

Options:
  --phrase WORDS   the words to train, e.g. "hey quark" (required)
  --name NAME      manifest name and file stem (default: the words joined by _, e.g. hey_quark)
  --smoke          a small data set and short training, for CI (under 2 minutes)
  --seed N         seed for the data, the initial weights and the batch order (default 1)
  --heads K        heads trained from seeds N, N+1, ... whose logits the exported model averages
                   (default ${ENSEMBLE_HEADS.full}, ${ENSEMBLE_HEADS.smoke} with --smoke; at most ${MAX_ENSEMBLE_HEADS})
  --out DIR        where the model, report and DET picture go (default: config models.dir)
  --json           print one JSON object: the summary and the manifest entry
${COMMON_USAGE}`,

  async run({ argv, out }) {
    const { values, positionals } = parse('train-wake', argv, {
      phrase: { type: 'string' },
      name: { type: 'string' },
      smoke: { type: 'boolean' },
      seed: { type: 'string' },
      heads: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help === true) {
      out(this.usage);
      return 0;
    }
    const usage = (why: string): GlassesError => usageError('train-wake', why);
    if (positionals.length > 0) throw usage(`unexpected argument "${positionals[0] ?? ''}"`);
    const phrase = values.phrase?.trim().replace(/\s+/g, ' ').toLowerCase();
    if (phrase === undefined || phrase === '') throw usage('give the words with --phrase');
    if (!/^[a-z' ]+$/.test(phrase)) throw usage(`--phrase "${phrase}": letters, spaces and apostrophes only`);
    const name = values.name ?? phrase.replace(/'/g, '').replace(/ /g, '_');
    if (!NAME.test(name)) throw usage(`--name ${name}: lower-case letters, digits and _ only`);
    const seed = numberFlag('train-wake', 'seed', values.seed, { integer: true, max: 0xffffffff }) ?? 1;
    const heads = numberFlag('train-wake', 'heads', values.heads, {
      integer: true,
      min: 1,
      max: MAX_ENSEMBLE_HEADS,
    });

    const { config, log } = boot(values);
    const outDir = values.out === undefined ? fromRoot(config.models.dir) : fromRoot(values.out);
    const models = await openModels(config);
    try {
      const clash = models.manifest.models.find((m) => m.name === name);
      if (clash !== undefined && !isOwnModel(clash)) {
        throw usage(
          `--name ${name} is ${clash.source.package}'s ${clash.kind} in the models manifest; choose another name (e.g. ${name}_own)`,
        );
      }
      const featureModels = {
        melspectrogram: await models.get('melspectrogram', 'wake-features'),
        embedding: await models.get('embedding', 'wake-features'),
      };
      const featureModelSha256 = ['melspectrogram', 'embedding'].map(
        (m) => findModel(models.manifest, m, 'wake-features').sha256,
      );
      // openWakeWord's head for the same words, if there is one: measured on the same test audio.
      const peer = models.manifest.models.find(
        (m) => m.kind === 'wake-head' && !isOwnModel(m) && m.phrase?.trim().toLowerCase() === phrase,
      );
      const pretrained =
        peer === undefined
          ? undefined
          : {
              name: peer.name,
              model: await models.get(peer.name, 'wake-head'),
              configuredThreshold: thresholdFor(config.wake, peer.name),
            };

      // Heavy modules (the trainer) load only when training.
      const { trainWake, operatingPoint } = await import('../wake-train/train/pipeline.js');
      const { summaryOf } = await import('../wake-train/train/report.js');
      const { StderrProgress } = await import('../wake-train/train/progress.js');
      const tfjsBackend = await useTfjsBackend(config.vision.backend, log);
      const load = createOnnxLoader({ modelsDir: outDir });

      const report = await untilInterrupted((signal) =>
        trainWake(
          {
            phrase,
            name,
            seed,
            ...(heads === undefined ? {} : { heads }),
            size: values.smoke === true ? 'smoke' : 'full',
            outDir,
            sourcePath: relative(PACKAGE_ROOT, join(outDir, `${name}.onnx`)),
            cacheDir: join(PACKAGE_ROOT, '.cache'),
            rootDir: PACKAGE_ROOT,
            refractoryMs: config.wake.refractoryMs,
            progress: new StderrProgress(),
            signal,
          },
          {
            featureModels,
            featureModelSha256,
            // Every core computes features (the data generator ran before, the trainer runs after).
            featureWorkers: {
              count: availableParallelism(),
              models: {
                modelsDir: models.dir,
                melspectrogram: findModel(models.manifest, 'melspectrogram', 'wake-features'),
                embedding: findModel(models.manifest, 'embedding', 'wake-features'),
              },
            },
            loadHead: (entry: ModelEntry): Promise<InferenceModel> => load(entry),
            ...(pretrained === undefined ? {} : { pretrained }),
            tfjsBackend,
            packageVersion: PACKAGE_VERSION,
            licence: PACKAGE_LICENCE,
          },
        ),
      );
      // Written into the models folder: its entry goes into the manifest, so the runtime can load it.
      const manifestFile = join(outDir, MANIFEST_FILE);
      const registered = outDir === models.dir;
      const verifierEntry = report.stages?.verifier;
      if (registered) await upsertManifestEntry(outDir, report.model, verifierEntry);
      const summary = summaryOf(report);
      if (values.json === true) {
        out(
          JSON.stringify({
            ...summary,
            seconds: report.seconds,
            files: report.files,
            manifestEntry: report.model,
            ...(verifierEntry === undefined ? {} : { verifierEntry }),
            manifestWritten: registered,
          }),
        );
      } else {
        const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
        const lines = (h: HeadSummary, label: string): void => {
          out(
            `${label}: threshold ${h.threshold.toPrecision(6)} (chosen on val: FA/h <= 0.5 over all val negatives)`,
          );
          out(`  val:  FRR ${pct(h.val.frr)} at ${h.val.faPerHour} false accepts per hour`);
          out(`  test: FRR ${pct(h.test.frr)} at ${h.test.faPerHour} false accepts per hour`);
          const o = h.ordinaryAudio;
          if (o !== undefined) {
            out(
              `  counting ordinary audio only (threshold ${o.threshold}): test FRR ${pct(o.test.frr)} at ${o.test.faPerHour} FA/h, ${o.testNearMisses.fired} of ${o.testNearMisses.clips} near-miss clips fire`,
            );
          }
        };
        const stages = report.stages;
        if (stages !== undefined) {
          out(
            `${name}: ${stages.shipped} (stage 1 at ${stages.stage1Threshold.toPrecision(6)}; on ordinary audio, head alone: val FRR ${pct(operatingPoint(stages.headAlone).val.frr)}, with the verifier: ${pct(operatingPoint(stages.pair).val.frr)}); the manifest's threshold is the ordinary-audio one`,
          );
        }
        lines(summary, `${name} ("${phrase}")`);
        const by = report.head.ordinaryAudio?.testBy ?? report.head.testBy;
        if (by !== undefined) {
          for (const [what, groups] of Object.entries(by)) {
            out(
              `  test by ${what}, at the threshold that ships: ${Object.entries(groups)
                .filter(([, g]) => g.positives > 0)
                .map(([k, g]) => `${k} FRR ${pct(g.frr)} (${g.found}/${g.positives}) at ${g.faPerHour} FA/h`)
                .join('; ')}`,
            );
          }
        }
        if (summary.pretrained !== undefined)
          lines(summary.pretrained, `${summary.pretrained.name} (pretrained, same audio)`);
        out(
          `  wrote ${report.files.onnx}, ${report.files.report}, ${report.files.det} in ${report.seconds.total} s`,
        );
        if (registered)
          out(
            `  ${relative(PACKAGE_ROOT, manifestFile)}: entry "${name}" written (threshold ${report.model.threshold ?? '?'})`,
          );
        else {
          out('models manifest entries (add them to models/manifest.json to use the head):');
          out(
            JSON.stringify(
              verifierEntry === undefined ? [report.model] : [report.model, verifierEntry],
              null,
              2,
            ),
          );
        }
      }
      return 0;
    } finally {
      await models.close();
    }
  },
};

/**
 * Puts `entry` into the manifest in place of one of the same name (ours only), else at its end, and
 * its verifier likewise; a verifier of an earlier training that this one does not ship is removed.
 */
async function upsertManifestEntry(
  modelsDir: string,
  entry: ModelEntry,
  verifier: ModelEntry | undefined,
): Promise<void> {
  const put = (models: ModelEntry[], e: ModelEntry): ModelEntry[] => {
    const at = models.findIndex((m) => m.name === e.name);
    return at === -1 ? [...models, e] : models.map((m, i) => (i === at ? e : m));
  };
  const { models } = await loadManifest(modelsDir);
  let next = put(
    models.filter(
      (m) => !(m.kind === 'wake-verifier' && m.verifies === entry.name && m.name !== verifier?.name),
    ),
    entry,
  );
  if (verifier !== undefined) next = put(next, verifier);
  await writeManifest(modelsDir, next);
}
