/**
 * The machine's input: what the wake detector and the endpointer find in a piece of audio, as loop
 * events (a wake phrase, with the echo check; speech starting; an utterance, kept under an id), handed
 * to the machine in the order they were heard, with the run events that report them.
 */
import type { AudioChunk } from '../audio/chunk.js';
import type { UtteranceEndpointer, WakeWordDetector } from './ports.js';
import { closingSilenceMs } from './latency.js';
import type { Effect, LoopEvent } from './machine.js';
import type { OwnVoice } from './own-voice.js';
import type { RunEvent } from './run-events.js';
import type { Utterances } from './utterances.js';

export interface LoopInputDeps {
  detector: Pick<WakeWordDetector, 'push'>;
  endpointer: Pick<UtteranceEndpointer, 'push'>;
  /** The endpointer's closing silences, for the reply latency. */
  silences: { shortMs: number; longMs: number };
  ownVoice: Pick<OwnVoice, 'isEcho'>;
  utterances: Utterances;
  /** The turn an utterance is heard in (0 when idle). */
  turnId: () => number;
  /**
   * Hands an event to the machine with its report, which the runner emits as the machine takes it
   * (after an answer it cuts short); returns the effects the machine asked for.
   */
  dispatch: (event: LoopEvent, heard?: RunEvent) => Effect[];
}

export class LoopInput {
  constructor(private readonly deps: LoopInputDeps) {}

  /**
   * Feeds one piece of audio, stamped with its audio time. The detector goes first: a wake phrase
   * begins capture before the endpointer sees the same audio.
   */
  async push(chunk: AudioChunk): Promise<void> {
    const { detector, endpointer, ownVoice, utterances, dispatch } = this.deps;
    for (const d of await detector.push(chunk)) {
      const echo = ownVoice.isEcho(d.phrase);
      dispatch(
        { type: 'wake', phrase: d.phrase, echo },
        { type: 'wake', atMs: d.atMs, phrase: d.phrase, score: d.score, echo },
      );
    }
    for (const e of await endpointer.push(chunk)) {
      if (e.type === 'speech-start') {
        dispatch({ type: 'speech-start' });
        continue;
      }
      const utteranceId = utterances.add(e.pcm, closingSilenceMs(e.reason, this.deps.silences));
      const effects = dispatch(
        { type: 'utterance', utteranceId },
        {
          type: 'utterance',
          atMs: e.endMs,
          turnId: this.deps.turnId(),
          durationMs: Math.round(e.endMs - e.startMs),
          reason: e.reason,
        },
      );
      // An utterance the loop does not act on (heard while it was busy) is dropped at once: the
      // wearer's audio is kept no longer than it is needed.
      if (!effects.some((x) => 'utteranceId' in x && x.utteranceId === utteranceId))
        utterances.drop(utteranceId);
    }
  }
}
