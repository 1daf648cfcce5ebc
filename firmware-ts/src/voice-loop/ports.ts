/**
 * What the voice loop asks of the world: the detectors it feeds (wake word, endpointer) and what it
 * cannot answer itself. The runner depends on these interfaces only; main.ts wires the adapters.
 */
import type { AudioChunk } from '../audio/chunk.js';
import type { Intent } from '../speech/intents.js';
import type { EndpointEvent } from '../vad/vad.js';
import type { Scene } from '../vision/scene.js';

export type { EndpointEvent };

/** A wake phrase heard. */
export interface WakeDetection {
  readonly phrase: string;
  /** Score of the frame that fired, 0..1. */
  readonly score: number;
  /** End of the frame that fired, from the start of the stream. */
  readonly atMs: number;
}

/** The wake-word detector (wake/detector.ts): audio in, the phrases heard in it out. */
export interface WakeWordDetector {
  /** Audio of any chunk size, in stream order; detections in the order heard. */
  push(chunk: AudioChunk): Promise<readonly WakeDetection[]>;
}

/** Finds an utterance in the stream after the wake phrase (vad/endpointer.ts). */
export interface UtteranceEndpointer {
  /** Audio in stream order (pushed always, so that capture can begin with a pre-roll). */
  push(chunk: AudioChunk): Promise<readonly EndpointEvent[]>;
  /** Starts capturing at `atMs` (audio time). */
  begin(atMs: number): void;
  /** Stops capturing; a completeness check in flight is aborted. */
  cancel(): void;
}

/** An open question: an utterance the on-device recogniser did not accept as a command. */
export interface Question {
  /** The utterance, 16 kHz mono; leaves the device only when the transcript is not confident. */
  readonly pcm: Int16Array;
  /** The on-device transcript (grammar-constrained, so often not the words said). */
  readonly transcript: string;
  /** 0..1: how sure the recogniser is of `transcript`. */
  readonly confidence: number;
}

/** Open questions (utterances rejected as commands): the cloud's language model. */
export interface AnswerSource {
  /**
   * The answer as text arriving in pieces, so speech can start with the first sentence. `signal` is
   * the turn's: it aborts on barge-in or "stop", and keys what the turn saw (VisionPort.sceneFor).
   * Never throws for a cloud failure: it yields a short spoken fallback instead.
   */
  ask(question: Question, signal: AbortSignal): AsyncIterable<string>;
}

/** Intents that need the camera ("what is this", "read this", "how much is this"). */
export interface VisionPort {
  answer(intent: Intent, signal: AbortSignal): Promise<string>;
  /** What the turn of `signal` saw (objects, text, prices), as context for the cloud and orders. */
  sceneFor(signal: AbortSignal): Scene | undefined;
}

/**
 * An offer the orders port made ("the best match is ..., say yes to buy it"). Only the offer
 * dialogue (offer-dialogue.ts) holds it and accepts it, for the wearer's own "yes" accepted by the
 * on-device recogniser; nothing the camera read or the cloud said can.
 */
export interface Offer {
  /** What is offered, for logs: never names, prices or anything the wearer said. */
  readonly kind: 'product' | 'service';
  /** Places the order (durably queued first) and says how it went. Takes effect once at most. */
  accept(signal: AbortSignal): Promise<string>;
}

/** The orders port's answer: what to say, and the offer it makes, if any. */
export interface OrdersReply {
  readonly text: string;
  readonly offer?: Offer;
}

/** Intents that need the orders service ("buy this", "order a coffee", "where is my order"). */
export interface OrdersPort {
  /** buy / order: search and make an offer; order_status: the status. */
  answer(intent: Intent, signal: AbortSignal): Promise<OrdersReply>;
}

/** An order the runtime placed or queued, for the `order` run event. */
export interface OrderEvent {
  readonly orderId: string;
  readonly status: string;
  /** 'queued': confirmed and written to the outbox, the cloud has not acknowledged it yet. */
  readonly state: 'placed' | 'queued';
}

/**
 * Order events, from the orders service to the runner, which reports them at the loop's audio time.
 * Made first by the composition root and handed to both, so neither needs the other to exist.
 */
export class OrderEvents {
  private readonly sinks: ((event: OrderEvent) => void)[] = [];

  /** What the orders service calls (its `onOrder`); an event with no subscriber yet is dropped. */
  readonly emit = (event: OrderEvent): void => {
    for (const sink of this.sinks) sink(event);
  };

  subscribe(sink: (event: OrderEvent) => void): void {
    this.sinks.push(sink);
  }
}

export interface Battery {
  /** 0..100, or undefined where the device has no battery to read. */
  percent(): Promise<number | undefined>;
}

/** No language model configured: say plainly that this needs the cloud. */
export class OfflineAnswerSource implements AnswerSource {
  // eslint-disable-next-line @typescript-eslint/require-await
  async *ask(): AsyncIterable<string> {
    yield 'That needs the cloud, and none is set up on these glasses.';
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
  answer(): Promise<OrdersReply> {
    return Promise.resolve({ text: "I can't order: the orders service isn't connected." });
  }
}
