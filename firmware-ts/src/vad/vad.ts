/**
 * Voice activity, as its users see it: the endpointer and the wake detector's gate take any detector
 * with this shape (Silero: silero.ts), and the voice loop takes what the endpointer finds.
 */

export interface VoiceActivityDetector {
  /** Samples per window: push() gives one speech probability per whole window. */
  readonly windowSamples: number;
  /** Speech probabilities (0..1) of the windows that `pcm` (16 kHz mono) completes, in order. */
  push(pcm: Int16Array): Promise<number[]>;
  /** Forgets the stream so far (its state and any partial window). */
  reset(): void;
}

export type EndpointEvent =
  | { type: 'speech-start'; atMs: number }
  | {
      type: 'utterance';
      pcm: Int16Array;
      startMs: number;
      endMs: number;
      reason: 'short-silence' | 'long-silence' | 'max-length';
    };
