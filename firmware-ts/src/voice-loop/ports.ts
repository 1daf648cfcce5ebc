/** What the voice loop asks of the world beyond the device's own answers. Later issues fill these in. */
import type { Intent } from '../speech/intents.js';
import type { Scene } from '../vision/scene.js';

/** Open questions (utterances rejected as commands): the cloud's language model, once connected. */
export interface AnswerSource {
  /** The answer as text arriving in pieces, so speech can start with the first sentence. */
  ask(question: { pcm: Int16Array; transcript: string }, signal: AbortSignal): AsyncIterable<string>;
}

/** Intents that need the camera ("what is this", "read this", "how much is this"). */
export interface VisionPort {
  answer(intent: Intent, signal: AbortSignal): Promise<string>;
  /** What the turn of `signal` saw (objects, text, prices), as context for the cloud and orders. */
  sceneFor(signal: AbortSignal): Scene | undefined;
}

/** Intents that need the orders service ("buy this", "order a coffee", "where is my order"). */
export interface OrdersPort {
  answer(intent: Intent, signal: AbortSignal): Promise<string>;
}

export interface Battery {
  /** 0..100, or undefined where the device has no battery to read. */
  percent(): Promise<number | undefined>;
}

/** Until the cloud issue lands: say plainly that this needs the cloud. */
export class OfflineAnswerSource implements AnswerSource {
  // eslint-disable-next-line @typescript-eslint/require-await
  async *ask(): AsyncIterable<string> {
    yield "That needs the cloud, and I'm not connected to it yet.";
  }
}

export class NoVision implements VisionPort {
  answer(): Promise<string> {
    return Promise.resolve("I can't see: this device has no camera connected.");
  }

  sceneFor(): undefined {
    return undefined;
  }
}

export class NoOrders implements OrdersPort {
  answer(): Promise<string> {
    return Promise.resolve("I can't order yet: the orders service isn't connected.");
  }
}
