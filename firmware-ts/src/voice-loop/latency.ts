/**
 * The reply latency of a turn: end of speech -> first audio handed to the speaker. It is the silence
 * that closed the utterance, the recognition, and the wall time from then to the first audio. On files
 * the audio runs faster than real time, so the parts are added rather than read off one clock.
 */
import type { EndpointEvent } from '../vad/vad.js';

type Reason = Extract<EndpointEvent, { type: 'utterance' }>['reason'];

/**
 * The silence that closed an utterance, by definition of its reason (on files the audio may have run
 * on while a completeness check was computing, so the clock would overstate it).
 */
export function closingSilenceMs(reason: Reason, silences: { shortMs: number; longMs: number }): number {
  return reason === 'short-silence' ? silences.shortMs : reason === 'long-silence' ? silences.longMs : 0;
}

export class ReplyLatency {
  private readonly turns = new Map<
    number,
    { silenceWaitMs: number; recognizeMs: number; recognizedWallMs: number }
  >();

  /** A turn's command was recognised: `recognizeMs` of decoding, known at wall time `atWallMs`. */
  recognized(turnId: number, silenceWaitMs: number, recognizeMs: number, atWallMs: number): void {
    this.turns.set(turnId, { silenceWaitMs, recognizeMs, recognizedWallMs: atWallMs });
  }

  /** Whole ms from the end of speech to `firstAudioWallMs`; undefined without both ends. */
  firstAudioMs(turnId: number, firstAudioWallMs: number | undefined): number | undefined {
    const t = this.turns.get(turnId);
    if (t === undefined || firstAudioWallMs === undefined) return undefined;
    return Math.round(t.silenceWaitMs + t.recognizeMs + (firstAudioWallMs - t.recognizedWallMs));
  }

  endTurn(turnId: number): void {
    this.turns.delete(turnId);
  }
}
