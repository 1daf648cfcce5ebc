/**
 * The real voice loop (VoiceLoopRunner, the state machine, Responder, OfferDialogue, Voice and a
 * timeline speaker, on a file-paced simulated clock) with the audio front end replaced by a script of
 * what the wearer does and when: the wake phrase at 1.0 s, "buy this" at 1.5 s, and so on. The wake
 * detector, the endpointer and the recogniser are scripted (each utterance takes SPEECH_MS and is
 * heard only while the loop is capturing, as with the real endpointer); speech synthesis makes
 * silence of MS_PER_CHAR per character, played at the clock's pace, so barge-in can cut it.
 *
 * For tests of the loop's own logic across turns, where real speech would only add minutes and
 * recognition noise; test/integration/voice-loop/scenario.test.ts runs the real audio front end.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AudioChunk } from '../../firmware-ts/src/audio/chunk.js';
import { RealClock, SimulatedClock } from '../../firmware-ts/src/hal/clock.js';
import type { Mic } from '../../firmware-ts/src/hal/mic.js';
import type { Speaker } from '../../firmware-ts/src/hal/speaker.js';
import { TimelineSpeaker } from '../../firmware-ts/src/hal/timeline-speaker.js';
import { silentLogger, type Log } from '../../firmware-ts/src/log.js';
import type { Intent } from '../../firmware-ts/src/speech/intents.js';
import type { Recognition } from '../../firmware-ts/src/speech/recognizer.js';
import { Voice } from '../../firmware-ts/src/tts/voice.js';
import type { EndpointEvent } from '../../firmware-ts/src/vad/endpointer.js';
import type { Detection } from '../../firmware-ts/src/wake/detector.js';
import { DEFAULT_TIMINGS, type LoopTimings } from '../../firmware-ts/src/voice-loop/machine.js';
import { OfferDialogue } from '../../firmware-ts/src/voice-loop/offer-dialogue.js';
import {
  NoOrders,
  NoVision,
  OfflineAnswerSource,
  type AnswerSource,
  type OrdersPort,
  type VisionPort,
} from '../../firmware-ts/src/voice-loop/ports.js';
import { Responder } from '../../firmware-ts/src/voice-loop/responder.js';
import { VoiceLoopRunner, type RunEvent } from '../../firmware-ts/src/voice-loop/runner.js';
import { Work } from '../../firmware-ts/src/voice-loop/work.js';

export const PHRASE = 'hey_quark';
export const PHRASE_WORDS = 'hey quark';
/** How long each scripted utterance lasts, from speech start to the end of the utterance. */
export const SPEECH_MS = 600;
/** How long the glasses take to say one character of an answer. */
export const MS_PER_CHAR = 40;
const FRAME = 1280; // 80 ms at 16 kHz

/** What the wearer does at `atMs` of the audio: says the wake phrase, or words (a command if `intent`). */
export type Cue = { atMs: number; wake: true } | { atMs: number; words: string; intent?: Intent };

export const wake = (atMs: number): Cue => ({ atMs, wake: true });
export const command = (
  atMs: number,
  words: string,
  name: Intent['name'],
  slots: Intent['slots'] = {},
): Cue => ({
  atMs,
  words,
  intent: { name, slots },
});

export interface ScriptedRun {
  events: RunEvent[];
  /** What the glasses said, in order. */
  said: string[];
}

export interface ScriptOptions {
  /** The audio lasts this long (then the runner drains until idle). */
  durationMs: number;
  orders?: OrdersPort;
  answers?: AnswerSource;
  /** orders.confirmWindowMs */
  confirmWindowMs?: number;
  timings?: LoopTimings;
  /** The loop's clock, if the test needs it for the orders side too. */
  clock?: SimulatedClock;
  /** The run's stop signal (the process's SIGTERM). */
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  log?: Log;
  vision?: VisionPort;
  /** What goes wrong: the recogniser on a cue's words, synthesis of a text, or every playback. */
  faults?: {
    recognize?: (words: string) => Error | undefined;
    synthesize?: (text: string) => Error | undefined;
    play?: () => Error | undefined;
  };
}

function silenceMic(durationMs: number): Mic {
  return {
    name: 'scripted',
    // eslint-disable-next-line @typescript-eslint/require-await
    async *chunks(signal: AbortSignal): AsyncIterable<AudioChunk> {
      for (let t = 0; t < durationMs && !signal.aborted; t += 80) {
        yield { pcm: new Int16Array(FRAME), sampleRateHz: 16000, channels: 1, tsMs: t };
      }
    },
  };
}

const inChunk = (atMs: number, chunk: AudioChunk): boolean =>
  atMs >= chunk.tsMs && atMs < chunk.tsMs + (chunk.pcm.length / chunk.sampleRateHz) * 1000;

class ScriptedDetector {
  constructor(private readonly cues: readonly Cue[]) {}

  push(chunk: AudioChunk): Promise<Detection[]> {
    return Promise.resolve(
      this.cues
        .filter((c) => 'wake' in c && inChunk(c.atMs, chunk))
        .map((c) => ({ phrase: PHRASE, score: 0.99, atMs: c.atMs })),
    );
  }
}

/** Hears a cue's words only when capture is on as they start, and ends them SPEECH_MS later. */
class ScriptedEndpointer {
  private capturingFromMs: number | undefined;
  private speaking: { index: number; startMs: number } | undefined;

  constructor(private readonly cues: readonly Cue[]) {}

  begin(atMs: number): void {
    this.speaking = undefined;
    this.capturingFromMs = atMs;
  }

  cancel(): void {
    this.speaking = undefined;
    this.capturingFromMs = undefined;
  }

  push(chunk: AudioChunk): Promise<EndpointEvent[]> {
    const events: EndpointEvent[] = [];
    this.cues.forEach((c, index) => {
      if ('wake' in c || !inChunk(c.atMs, chunk)) return;
      if (this.capturingFromMs === undefined || c.atMs < this.capturingFromMs || this.speaking !== undefined)
        return;
      this.speaking = { index, startMs: c.atMs };
      events.push({ type: 'speech-start', atMs: c.atMs });
    });
    const s = this.speaking;
    if (s !== undefined && inChunk(s.startMs + SPEECH_MS, chunk)) {
      this.speaking = undefined;
      this.capturingFromMs = undefined;
      events.push({
        type: 'utterance',
        // The cue's index stands in for the audio: the scripted recogniser reads it back.
        pcm: Int16Array.of(s.index),
        startMs: s.startMs,
        endMs: s.startMs + SPEECH_MS,
        reason: 'short-silence',
      });
    }
    return Promise.resolve(events);
  }
}

class ScriptedRecognizer {
  constructor(
    private readonly cues: readonly Cue[],
    private readonly fault?: (words: string) => Error | undefined,
  ) {}

  recognize(pcm: Int16Array): Promise<Recognition> {
    const cue = this.cues[pcm[0] ?? -1];
    if (cue === undefined || 'wake' in cue) throw new Error(`no spoken cue ${pcm[0]}`);
    const failure = this.fault?.(cue.words);
    if (failure !== undefined) return Promise.reject(failure);
    return Promise.resolve({
      transcript: cue.words,
      intent: cue.intent,
      accepted: cue.intent !== undefined,
      confidence: cue.intent === undefined ? 0.2 : 0.9,
      ms: 1,
    });
  }
}

/** Runs the loop over the script to its end and returns what happened. */
export async function runScript(cues: readonly Cue[], options: ScriptOptions): Promise<ScriptedRun> {
  const clock = options.clock ?? new SimulatedClock();
  const log = options.log ?? silentLogger();
  const work = new Work();
  const timeline = new TimelineSpeaker(
    join(mkdtempSync(join(tmpdir(), 'scripted-loop-')), 'said.wav'),
    clock,
  );
  const faults = options.faults ?? {};
  const speaker: Speaker = {
    name: timeline.name,
    play: (chunks, signal) => {
      const failure = faults.play?.();
      return failure === undefined ? timeline.play(chunks, signal) : Promise.reject(failure);
    },
    close: () => timeline.close(),
  };
  const voice = new Voice({
    synthesizer: {
      synthesize: (text) =>
        work.track(
          faults.synthesize?.(text) !== undefined
            ? Promise.reject(faults.synthesize(text) as Error)
            : Promise.resolve({
                pcm: new Int16Array(Math.round((text.length * MS_PER_CHAR * 16000) / 1000)),
                sampleRateHz: 16000,
                channels: 1,
                tsMs: 0,
              }),
        ),
    },
    speaker,
    clock: new RealClock(),
    log,
  });
  const responder = new Responder({
    now: () => new Date(2025, 2, 1, 12, 0, 0),
    battery: { percent: () => Promise.resolve(undefined) },
    volume: voice,
    vision: options.vision ?? new NoVision(),
    orders: options.orders ?? new NoOrders(),
    offers: new OfferDialogue({ clock, confirmWindowMs: options.confirmWindowMs ?? 8000, log }),
  });
  const events: RunEvent[] = [];
  const runner = new VoiceLoopRunner({
    mic: silenceMic(options.durationMs),
    clock,
    pace: 'file',
    detector: new ScriptedDetector(cues),
    phraseWords: { [PHRASE]: PHRASE_WORDS },
    endpointer: new ScriptedEndpointer(cues),
    silences: { shortMs: 300, longMs: 900 },
    recognizer: new ScriptedRecognizer(cues, faults.recognize),
    voice,
    responder,
    answers: options.answers ?? new OfflineAnswerSource(),
    timings: options.timings ?? DEFAULT_TIMINGS,
    onEvent: (e) => {
      events.push(e);
      options.onEvent?.(e);
    },
    log,
    work,
  });
  await runner.run(options.signal ?? new AbortController().signal);
  return {
    events,
    said: events.flatMap((e) => (e.type === 'say' ? [e.text] : [])),
  };
}
