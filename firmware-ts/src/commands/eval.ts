/** `glasses eval`: measures the runtime on labelled audio. `eval wake`: a wake head's FRR, FA/h and DET curve. */
import { GlassesError } from '../errors.js';
import { createWakeEngine } from '../main.js';
import { renderDetPng } from '../wake-train/det.js';
import { evalWake, type EvalWakeResult, type FolderFigures } from '../wake-train/eval.js';
import { boot, COMMON_USAGE, parse, round, scoreFlag, untilInterrupted, type Command } from './command.js';

const WAKE_USAGE = `Usage: glasses eval wake --phrase NAME --pos DIR --neg DIR [--by COLUMN]... [--threshold X] [--vad] [--json] [--curve OUT.png] [--jobs N]

Runs the runtime's streaming wake detector (the code \`glasses run\` uses) over every WAV under DIR
(sub-folders too) and prints: positives found / total (FRR), false accepts and false accepts per
hour over the negatives' total length, figures per sub-folder, detection latency from the end of the
phrase, and the DET curve (FRR against FA/h across thresholds). Each file is followed by 1 s of
silence, as a microphone would go on listening. Phrase ends come from the data set's index.json
(glasses train-wake data) when there is one, else from the end of the clip's last loud part.
Files that are not audio by their extension (.wav, .wave) are left out and counted; a WAV that
cannot be read is reported and left out, and the exit code is then 1.

Options:
  --phrase NAME       wake head (a models-manifest wake-head name, e.g. hey_jarvis)
  --pos DIR           folder of clips that hold the phrase
  --neg DIR           folder of clips that do not
  --by COLUMN         figures per value of COLUMN in the manifests beside the clips (repeatable): a
                      manifest is a .tsv under DIR whose header names "file" (a clip, relative to the
                      .tsv) and COLUMN, e.g. file<TAB>voice<TAB>noise
  --threshold X       score threshold 0..1 (default: config, for that phrase)
  --vad               gate detections with Silero VAD, as config wake.vadGate does
  --json              print one JSON object: frr, faPerHour, found, total, negSeconds, threshold,
                      perFolder, byColumn, curve, latencyMs, errors, skipped, ...
  --curve OUT.png     write the DET curve as a PNG, with the threshold's point marked
  --jobs N            detectors running at once, one file each (default 2; figures do not depend on it)
${COMMON_USAGE}`;

export const evalCommand: Command = {
  name: 'eval',
  summary: 'measure on labelled audio: `eval wake` (FRR, false accepts per hour, DET curve, latency)',
  usage: WAKE_USAGE,
  async run({ argv, out }) {
    const [what, ...rest] = argv;
    if (what === undefined || what === '--help' || what === '-h') {
      out(this.usage);
      return what === undefined ? 2 : 0;
    }
    if (what !== 'wake')
      throw new GlassesError('E_USAGE', `glasses eval: unknown evaluation "${what}" (wake)`);
    return evalWakeCommand(rest, out);
  },
};

async function evalWakeCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parse('eval wake', argv, {
    phrase: { type: 'string' },
    pos: { type: 'string' },
    neg: { type: 'string' },
    threshold: { type: 'string' },
    vad: { type: 'boolean' },
    json: { type: 'boolean' },
    curve: { type: 'string' },
    jobs: { type: 'string' },
    by: { type: 'string', multiple: true },
  });
  if (values.help === true) {
    out(WAKE_USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    throw new GlassesError('E_USAGE', `glasses eval wake: unexpected argument "${positionals[0] ?? ''}"`);
  }
  const { phrase, pos, neg } = values;
  if (phrase === undefined || pos === undefined || neg === undefined) {
    throw new GlassesError(
      'E_USAGE',
      'glasses eval wake: give --phrase NAME, --pos DIR and --neg DIR (see glasses eval wake --help)',
    );
  }
  const threshold = scoreFlag('eval wake', 'threshold', values.threshold);
  const jobs = values.jobs === undefined ? 2 : Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) {
    throw new GlassesError(
      'E_USAGE',
      `glasses eval wake: --jobs ${values.jobs ?? ''}: expected a positive whole number`,
    );
  }
  const { config, log } = boot(values);
  // The engine fires at --threshold, else at the head's configured or trained threshold, as the
  // runtime does; its detections are the figures.
  const result = await untilInterrupted((signal) =>
    evalWake({
      phrase,
      posDir: pos,
      negDir: neg,
      refractoryMs: config.wake.refractoryMs,
      openEngine: (onFrame) =>
        createWakeEngine(config, log, {
          phrases: [phrase],
          ...(threshold === undefined ? {} : { threshold }),
          onFrame,
          ...(values.vad === true ? { vadGate: true } : {}),
        }),
      log: log.child({ component: 'eval' }),
      signal,
      concurrency: jobs,
      ...(values.by === undefined ? {} : { by: values.by }),
    }),
  );
  if (values.curve !== undefined) {
    await renderDetPng(
      result.curve,
      {
        marked: { threshold: result.threshold, frr: result.frr, faPerHour: result.faPerHour },
        title: `${phrase}: ${result.total} positives, ${round(result.negSeconds / 3600, 2)} h of negatives`,
      },
      values.curve,
    );
  }
  if (values.json === true) {
    out(JSON.stringify({ ...result, ...(values.curve === undefined ? {} : { curvePng: values.curve }) }));
  } else {
    for (const line of formatReport(result)) out(line);
    if (values.curve !== undefined) out(`DET curve written to ${values.curve}`);
  }
  return result.errors.length > 0 ? 1 : 0;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

/** Thresholds the text report lists; --json has every point. */
const REPORTED_THRESHOLDS = [0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99];

export function formatReport(r: EvalWakeResult): string[] {
  const lines = [
    `${r.phrase} at threshold ${r.threshold} (refractory ${r.refractoryMs} ms)`,
    `positives: found ${r.found} of ${r.total} clips (FRR ${pct(r.frr)})`,
    `negatives: ${r.negClips} clips, ${(r.negSeconds / 3600).toFixed(3)} h, ${r.falseAccepts} false accepts (${r.faPerHour.toFixed(2)} per hour)`,
  ];
  const l = r.latencyMs;
  lines.push(
    l === null
      ? 'latency: no detections'
      : `latency from the end of the phrase (${l.phraseEnd === 'index' ? 'from index.json' : l.phraseEnd === 'mixed' ? 'index.json and estimated' : 'estimated from the audio'}): median ${l.medianMs} ms, mean ${l.meanMs} ms, p90 ${l.p90Ms} ms, max ${l.maxMs} ms (${l.count} detections)`,
  );
  lines.push('per folder:', ...groupLines(r.perFolder.map((f) => ({ ...f, name: f.folder }))));
  for (const c of r.byColumn) {
    lines.push(`by ${c.column}:`, ...groupLines(c.groups.map((g) => ({ ...g, name: g.value }))));
  }
  lines.push('DET curve (threshold: FRR, false accepts per hour):');
  for (const p of r.curve) {
    if (REPORTED_THRESHOLDS.includes(p.threshold) || p.threshold === r.threshold) {
      lines.push(
        `  ${String(p.threshold).padStart(6)}: FRR ${pct(p.frr).padStart(7)}, ${p.faPerHour.toFixed(2)}/h`,
      );
    }
  }
  if (r.skipped > 0) lines.push(`skipped ${r.skipped} files that are not audio (not .wav)`);
  for (const e of r.errors) lines.push(`error: ${e.code}: ${e.message}`);
  return lines;
}

function groupLines(groups: readonly (Omit<FolderFigures, 'folder'> & { name: string })[]): string[] {
  const width = Math.max(8, ...groups.map((g) => g.name.length));
  return groups.map((g) => {
    const figures =
      g.label === 'pos'
        ? `found ${g.found ?? 0}/${g.clips}  FRR ${pct(g.frr ?? 0)}`
        : `${g.clips} clips, ${(g.seconds / 60).toFixed(1)} min, ${g.falseAccepts ?? 0} false accepts (${(g.faPerHour ?? 0).toFixed(2)}/h)`;
    return `  ${g.label} ${g.name.padEnd(width)}  ${figures}`;
  });
}
