/**
 * Measures pocketsphinx as the wake phrase's second stage: the streaming head alone at a
 * high-recall threshold, and the same detections kept only when pocketsphinx, given the last 2 s of
 * audio with the phrase as its only command, accepts it against its free phone and word loops (the
 * likelihood-ratio test the command recogniser uses). Over a split of a phrase's cached training
 * data (never the evaluation voices):
 *
 *   npx tsx scripts/wake-ps-verify.ts --phrase hey_quark --words "hey quark" \
 *     --split .cache/wake-data/hey_quark-full-seed1/val --threshold 0.99 [--json]
 *
 * Prints found/total and FRR for the positives, false accepts and FA/h for the negatives, for the head
 * alone and with pocketsphinx, and pocketsphinx's time per trigger.
 */
import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { listAudioFolder } from '../firmware-ts/src/audio/files.js';
import { streamWavAs16kMono } from '../firmware-ts/src/audio/wav.js';
import { loadConfig } from '../firmware-ts/src/config.js';
import { silentLogger } from '../firmware-ts/src/log.js';
import { createWakeEngine } from '../firmware-ts/src/main.js';
import { fromRoot } from '../firmware-ts/src/paths.js';
import { PocketsphinxRecognizer } from '../firmware-ts/src/speech/pocketsphinx.js';
import { FRAME_SAMPLES } from '../firmware-ts/src/wake/features.js';

const RATE = 16_000;
const WINDOW_SAMPLES = 2 * RATE;
const TAIL_SAMPLES = RATE;

const { values } = parseArgs({
  options: {
    phrase: { type: 'string' },
    words: { type: 'string' },
    split: { type: 'string' },
    threshold: { type: 'string' },
    json: { type: 'boolean' },
  },
});
if (values.phrase === undefined || values.words === undefined || values.split === undefined) {
  process.stderr.write('usage: --phrase NAME --words "WORDS" --split DIR [--threshold T] [--json]\n');
  process.exit(2);
}
const threshold = Number(values.threshold ?? '0.99');
const log = silentLogger();

// The head alone: a models folder whose manifest leaves out the phrase's verifier.
const modelsDir = fromRoot(loadConfig({ env: {} }).models.dir);
const tmp = mkdtempSync(join(tmpdir(), 'wake-ps-'));
const manifest = JSON.parse(await fs.readFile(join(modelsDir, 'manifest.json'), 'utf8')) as {
  models: { name: string; kind: string; file: string }[];
};
manifest.models = manifest.models.filter((m) => m.kind !== 'wake-verifier');
await fs.writeFile(join(tmp, 'manifest.json'), JSON.stringify(manifest));
for (const m of manifest.models)
  await fs.symlink(join(modelsDir, m.file), join(tmp, m.file)).catch(() => undefined);
const config = loadConfig({ env: {}, overrides: { models: { dir: tmp } } });
const engine = await createWakeEngine(config, log, { phrases: [values.phrase], threshold, vadGate: false });
const recognizer = new PocketsphinxRecognizer({
  log,
  commands: [{ intent: 'help', phrases: [values.words] }],
  tempRoot: tmp,
});

interface Row {
  label: 'pos' | 'neg';
  file: string;
  seconds: number;
  triggers: number;
  verified: number;
  /** pocketsphinx's confidence in the phrase, per trigger. */
  confidences: number[];
}
/** Confidence cut-offs reported beside the recogniser's own accept. */
const CUTOFFS = [0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9];
const rows: Row[] = [];
const psMs: number[] = [];
const signal = new AbortController().signal;

for (const label of ['pos', 'neg'] as const) {
  const dir = resolve(values.split, label);
  const { files } = await listAudioFolder(dir);
  for (const file of files) {
    engine.detector.reset();
    const ring = new Int16Array(WINDOW_SAMPLES);
    let filled = 0;
    let samples = 0;
    const row: Row = {
      label,
      file: relative(values.split, file),
      seconds: 0,
      triggers: 0,
      verified: 0,
      confidences: [],
    };
    const feed = async (pcm: Int16Array): Promise<void> => {
      for (let at = 0; at < pcm.length; at += FRAME_SAMPLES) {
        const piece = pcm.subarray(at, at + FRAME_SAMPLES);
        // Last 2 s of audio, oldest first after the copy below.
        ring.copyWithin(0, piece.length);
        ring.set(piece, WINDOW_SAMPLES - piece.length);
        filled = Math.min(WINDOW_SAMPLES, filled + piece.length);
        const hits = await engine.detector.push({
          pcm: piece,
          sampleRateHz: RATE,
          channels: 1,
          tsMs: (samples / RATE) * 1000,
        });
        samples += piece.length;
        for (const _hit of hits) {
          row.triggers++;
          const t0 = performance.now();
          const r = await recognizer.recognize(ring.slice(WINDOW_SAMPLES - filled), signal);
          psMs.push(performance.now() - t0);
          if (process.env.WAKE_PS_DEBUG !== undefined)
            process.stderr.write(
              `${row.file} ${JSON.stringify({ t: r.transcript, c: r.confidence, a: r.accepted })}\n`,
            );
          if (r.accepted) row.verified++;
          row.confidences.push(r.confidence);
        }
      }
    };
    let fileSamples = 0;
    for await (const pcm of streamWavAs16kMono(file)) {
      fileSamples += pcm.length;
      await feed(pcm);
    }
    await feed(new Int16Array(TAIL_SAMPLES));
    row.seconds = fileSamples / RATE;
    rows.push(row);
  }
}
await recognizer.close();
await engine.close();
rmSync(tmp, { recursive: true, force: true });

function folders(all: Row[]): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const r of all) {
    const key = `${r.label}/${r.file.split('/').slice(1, -1).join('/')}`;
    out.set(key, [...(out.get(key) ?? []), r]);
  }
  return out;
}

const pos = rows.filter((r) => r.label === 'pos');
const neg = rows.filter((r) => r.label === 'neg');
const hours = neg.reduce((s, r) => s + r.seconds, 0) / 3600;
const figures = {
  phrase: values.phrase,
  split: values.split,
  threshold,
  positives: pos.length,
  negativeHours: Math.round(hours * 100) / 100,
  head: {
    found: pos.filter((r) => r.triggers > 0).length,
    frr: 1 - pos.filter((r) => r.triggers > 0).length / pos.length,
    falseAccepts: neg.reduce((s, r) => s + r.triggers, 0),
    faPerHour: neg.reduce((s, r) => s + r.triggers, 0) / hours,
  },
  headAndPocketsphinx: {
    found: pos.filter((r) => r.verified > 0).length,
    frr: 1 - pos.filter((r) => r.verified > 0).length / pos.length,
    falseAccepts: neg.reduce((s, r) => s + r.verified, 0),
    faPerHour: neg.reduce((s, r) => s + r.verified, 0) / hours,
  },
  byConfidence: CUTOFFS.map((c) => {
    const fa = neg.reduce((s, r) => s + r.confidences.filter((x) => x >= c).length, 0);
    const found = pos.filter((r) => r.confidences.some((x) => x >= c)).length;
    return { atLeast: c, found, frr: 1 - found / pos.length, falseAccepts: fa, faPerHour: fa / hours };
  }),
  pocketsphinxMsPerTrigger:
    psMs.length === 0 ? 0 : Math.round(psMs.sort((a, b) => a - b)[psMs.length >> 1] ?? 0),
  byFolder: [...folders(rows)].map(([folder, rs]) => ({
    folder,
    clips: rs.length,
    head: rs.filter((r) => r.triggers > 0).length,
    verified: rs.filter((r) => r.verified > 0).length,
  })),
};
process.stdout.write(
  values.json === true ? `${JSON.stringify(figures)}\n` : `${JSON.stringify(figures, null, 2)}\n`,
);
