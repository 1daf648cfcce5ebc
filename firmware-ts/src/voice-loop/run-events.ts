/** The run's report, on the loop's audio clock (`atMs`). */
import type { Intent } from '../speech/intents.js';
import type { State } from './machine.js';

/** What a run reports, one object per happening; `--json` prints them as lines. */
export type RunEvent =
  | { type: 'state'; atMs: number; from: State['name']; to: State['name']; turnId?: number }
  | { type: 'wake'; atMs: number; phrase: string; score: number; echo: boolean }
  | { type: 'utterance'; atMs: number; turnId: number; durationMs: number; reason: string }
  | {
      type: 'intent';
      atMs: number;
      turnId: number;
      name: string;
      slots: Intent['slots'];
      accepted: boolean;
      confidence: number;
      transcript: string;
      purpose: 'command' | 'barge-in';
      recognizeMs: number;
    }
  | {
      type: 'say';
      atMs: number;
      turnId: number;
      text: string;
      source: 'device' | 'answer-source' | 'prompt';
      /** Wall ms from the end of the utterance to the first audio handed to the speaker. */
      firstAudioMs?: number;
      completed: boolean;
      /**
       * Audio ms at which it was cut short (barge-in, "stop", the run stopping); absent when completed.
       * A cut answer is reported when it is cut, before what cut it.
       */
      cutOffAtMs?: number;
    }
  | { type: 'order'; atMs: number; orderId: string; status: string; state: 'placed' | 'queued' }
  | { type: 'error'; atMs: number; code: string; message: string };
