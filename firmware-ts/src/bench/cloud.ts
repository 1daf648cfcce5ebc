/**
 * `glasses bench cloud`: the time the glasses themselves add around a cloud answer, measured in wall
 * time on the real loop (wake engine, Silero endpointer, pocketsphinx, the openai client, espeak-ng)
 * against the development cloud on loopback, so the network and the model add almost nothing:
 *   - end of speech -> the request leaving the device: the silence that ends the question, the
 *     on-device recognition that finds it is not a command, building the request (audio, scene);
 *   - first token received -> first audio handed to the speaker: sentence splitting and synthesis.
 * Five spoken open questions (firmware-ts/assets/samples/cloud_questions.wav), several rounds; medians.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectCloud } from '../compose/cloud.js';
import { loadDevCloud } from '../compose/dev-cloud.js';
import { parse, round } from '../commands/command.js';
import { loadConfig, type FrozenConfig } from '../config.js';
import { GlassesError } from '../errors.js';
import { silentLogger } from '../log.js';
import { createClock, createFileMic, createSpeaker, createVoiceLoop } from '../main.js';
import { SAMPLES_DIR } from '../paths.js';
import type { AnswerSource, Question } from '../voice-loop/ports.js';
import { median } from './bench-audio.js';
import { TimedSpeaker } from './timed-speaker.js';

const QUESTIONS = join(SAMPLES_DIR, 'cloud_questions.wav');

interface Sample {
  /** The silence the endpointer waited before calling the question ended (audio time). */
  silenceWaitMs: number;
  /** Wall ms from the end of that silence to the request leaving. */
  toRequestMs: number;
  /** Wall ms from the first token arriving to its first audio reaching the speaker. */
  tokenToAudioMs: number;
}

/** Times when the answer's first piece reaches the loop. */
class TimedAnswers implements AnswerSource {
  readonly firstPieceMs: number[] = [];
  constructor(private readonly inner: AnswerSource) {}
  async *ask(question: Question, signal: AbortSignal): AsyncIterable<string> {
    let first = true;
    for await (const piece of this.inner.ask(question, signal)) {
      if (first && piece !== '') {
        first = false;
        this.firstPieceMs.push(performance.now());
      }
      yield piece;
    }
  }
}

async function round1(base: FrozenConfig, dir: string, r: number): Promise<Sample[]> {
  const token = randomBytes(18).toString('base64url');
  const { createDevCloud } = await loadDevCloud('glasses bench cloud');
  const cloud = await createDevCloud({ token });
  const tokenFile = join(dir, `token-${r}`);
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const config = loadConfig({
    env: {},
    overrides: {
      log: { level: 'silent' },
      cloud: { ...base.cloud, llmBaseUrl: cloud.llmBaseUrl, ordersBaseUrl: '', tokenFile },
    },
  });
  const requestsMs: number[] = [];
  const timedFetch: typeof fetch = (input, init) => {
    requestsMs.push(performance.now());
    return fetch(input, init);
  };
  const clock = createClock('file');
  const side = await connectCloud(config, {
    embedded: false,
    outboxDir: join(dir, 'outbox'),
    loopClock: clock,
    vision: undefined,
    onOrder: () => undefined,
    now: () => new Date(),
    log: silentLogger(),
    llmFetch: timedFetch,
  });
  if (side.answers === undefined) throw new Error('bench cloud: no answer source');
  const answers = new TimedAnswers(side.answers);
  const speaker = new TimedSpeaker(
    createSpeaker({ file: join(dir, `said-${r}.wav`), clock }, silentLogger()),
  );
  const ends: { wallMs: number; silenceWaitMs: number }[] = [];
  const { shortSilenceMs, longSilenceMs } = config.endpoint;
  const loop = await createVoiceLoop(config, silentLogger(), {
    mic: createFileMic(QUESTIONS, 'fast', clock),
    speaker,
    pace: 'file',
    clock,
    answers,
    onEvent: (e) => {
      if (e.type !== 'utterance') return;
      const silenceWaitMs =
        e.reason === 'short-silence' ? shortSilenceMs : e.reason === 'long-silence' ? longSilenceMs : 0;
      ends.push({ wallMs: performance.now(), silenceWaitMs });
    },
  });
  try {
    await loop.runner.run(new AbortController().signal);
  } finally {
    await loop.close();
    await side.close();
    await cloud.close();
  }
  const samples: Sample[] = [];
  for (const [i, requestMs] of requestsMs.entries()) {
    // The question whose end came last before this request.
    const end = ends.filter((e) => e.wallMs <= requestMs).at(-1);
    const tokenMs = answers.firstPieceMs[i];
    const audio = speaker.plays.find(
      (p) => tokenMs !== undefined && p.firstChunkMs !== undefined && p.firstChunkMs >= tokenMs,
    );
    if (end === undefined || tokenMs === undefined || audio?.firstChunkMs === undefined) continue;
    samples.push({
      silenceWaitMs: end.silenceWaitMs,
      toRequestMs: requestMs - end.wallMs,
      tokenToAudioMs: audio.firstChunkMs - tokenMs,
    });
  }
  return samples;
}

export async function benchCloud(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parse('bench cloud', argv, {
    json: { type: 'boolean' },
    rounds: { type: 'string' },
  });
  const rounds = values.rounds === undefined ? 3 : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new GlassesError('E_USAGE', 'glasses bench cloud: --rounds takes a whole number >= 1');
  }
  const base = loadConfig(values.config === undefined ? {} : { file: values.config });
  const dir = mkdtempSync(join(tmpdir(), 'bench-cloud-'));
  const samples: Sample[] = [];
  try {
    for (let r = 0; r < rounds; r++) samples.push(...(await round1(base, dir, r)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (samples.length === 0) throw new Error('bench cloud: no question was answered');
  const result = {
    rounds,
    questions: samples.length,
    endOfSpeechToRequestMs: round(median(samples.map((s) => s.silenceWaitMs + s.toRequestMs)), 1),
    silenceWaitMs: round(median(samples.map((s) => s.silenceWaitMs)), 1),
    silenceEndToRequestMs: round(median(samples.map((s) => s.toRequestMs)), 1),
    firstTokenToFirstAudioMs: round(median(samples.map((s) => s.tokenToAudioMs)), 1),
  };
  if (values.json === true) {
    out(JSON.stringify(result));
    return 0;
  }
  out(
    `cloud benchmark: ${result.questions} spoken open questions (${rounds} rounds) against the development cloud on loopback; medians, wall time`,
  );
  out(`  end of speech -> request leaves the device        ${result.endOfSpeechToRequestMs} ms`);
  out(`    the silence that ends the question              ${result.silenceWaitMs} ms`);
  out(`    recognition and building the request            ${result.silenceEndToRequestMs} ms`);
  out(`  first token received -> first audio played       ${result.firstTokenToFirstAudioMs} ms`);
  return 0;
}
