/** The command recogniser port: one endpointed utterance in, a command or an open question out. */
import type { Intent } from './intents.js';

export interface Recognition {
  /** What the recogniser heard, normalised; '' when it heard nothing it could decode. Never log at info. */
  transcript: string;
  /** The command the transcript says, if it is one; act on it only when `accepted`. */
  intent: Intent | undefined;
  /**
   * True only when the utterance is a command: in the grammar and likely enough to be what was
   * said. False means an open question (or noise): no intent may be acted on.
   */
  accepted: boolean;
  /** 0..1; `accepted` implies at least 0.5. Comparable between utterances of one recogniser only. */
  confidence: number;
  /** Wall time of the recognition. */
  ms: number;
}

export interface CommandRecognizer {
  /** Recognises one utterance of 16 kHz mono audio. Rejects with E_ABORTED when `signal` aborts. */
  recognize(pcm: Int16Array, signal: AbortSignal): Promise<Recognition>;
}
