/**
 * The audio every wake benchmark runs on: the bundled samples, so the same figures can be taken on a
 * board. Ordinary speech alternates with the wake phrase alone, whose speech ends exactly 1 s before
 * the end of its file (scripts/make-fixtures.sh pads it so), which gives the detection latency.
 */
import { join } from 'node:path';
import { samplesToMs } from '../audio/chunk.js';
import { readWavAs16kMono } from '../audio/wav.js';
import { SAMPLES_DIR } from '../paths.js';

const REPEATS = 4;
/** make-fixtures.sh pads the phrase sample with 1 s of silence after its speech. */
const PHRASE_TRAILING_SILENCE_MS = 1000;

export interface BenchAudio {
  pcm: Int16Array;
  /** Where each wake phrase's speech ends, in ms from the start. */
  phraseEndsMs: number[];
  seconds: number;
}

export async function loadBenchAudio(): Promise<BenchAudio> {
  const speech = (await readWavAs16kMono(join(SAMPLES_DIR, 'ordinary_sentence.wav'))).pcm;
  const phrase = (await readWavAs16kMono(join(SAMPLES_DIR, 'hey_jarvis.wav'))).pcm;
  const pcm = new Int16Array(REPEATS * (speech.length + phrase.length));
  const phraseEndsMs: number[] = [];
  let at = 0;
  for (let i = 0; i < REPEATS; i++) {
    pcm.set(speech, at);
    at += speech.length;
    pcm.set(phrase, at);
    at += phrase.length;
    phraseEndsMs.push(samplesToMs(at) - PHRASE_TRAILING_SILENCE_MS);
  }
  return { pcm, phraseEndsMs, seconds: pcm.length / 16000 };
}

/** For each phrase end, how long after it the first detection came (ms of audio), if one did. */
export function latencies(phraseEndsMs: readonly number[], detectionsAtMs: readonly number[]): number[] {
  const out: number[] = [];
  for (const end of phraseEndsMs) {
    // A head may fire a little before the last phoneme ends; 600 ms either side is the same utterance.
    const hit = detectionsAtMs.find((t) => t >= end - 600 && t <= end + 2000);
    if (hit !== undefined) out.push(hit - end);
  }
  return out;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}
