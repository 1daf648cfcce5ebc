/**
 * The wearer's captured utterances, from the endpointer closing one to the last effect that needs it
 * (recognition, then the answer source for an open question). The wearer's audio is kept no longer
 * than that: each effect takes or drops what it is done with.
 */
export interface Utterance {
  pcm: Int16Array;
  /** Audio ms between the end of speech and the utterance closing, for the reply latency. */
  silenceWaitMs: number;
  /** What the recogniser made of an open question, sent to the answer source with the audio. */
  transcript?: string;
  confidence?: number;
}

export class Utterances {
  private nextId = 1;
  private readonly held = new Map<number, Utterance>();

  /** Keeps an utterance; returns the id the machine's events and effects name it by. */
  add(pcm: Int16Array, silenceWaitMs: number): number {
    const id = this.nextId++;
    this.held.set(id, { pcm, silenceWaitMs });
    return id;
  }

  get(id: number): Utterance | undefined {
    return this.held.get(id);
  }

  /** The utterance, no longer kept. */
  take(id: number): Utterance | undefined {
    const u = this.held.get(id);
    this.held.delete(id);
    return u;
  }

  drop(id: number): void {
    this.held.delete(id);
  }

  /** Keeps what the recogniser made of an open question for the answer source. */
  note(id: number, transcript: string, confidence: number): void {
    const u = this.held.get(id);
    if (u === undefined) return;
    u.transcript = transcript;
    u.confidence = confidence;
  }

  /** How many are kept (the wearer's audio in memory). */
  get size(): number {
    return this.held.size;
  }
}
