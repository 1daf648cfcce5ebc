/**
 * An orders port as the voice loop talks to it: through the real Responder and OfferDialogue, each
 * answer heard to its end as soon as it is given (no speech, no machine). For tests of what the orders
 * side says and places; test/integration/voice-loop/offer-dialogue.test.ts drives the whole loop.
 */
import type { Clock } from '../../firmware-ts/src/hal/clock.js';
import { silentLogger, type Log } from '../../firmware-ts/src/log.js';
import type { Command } from '../../firmware-ts/src/voice-loop/machine.js';
import { OfferDialogue } from '../../firmware-ts/src/voice-loop/offer-dialogue.js';
import { NoVision, type OrdersPort } from '../../firmware-ts/src/voice-loop/ports.js';
import { Responder } from '../../firmware-ts/src/voice-loop/responder.js';

export interface Wearer {
  /** Says `intent` and hears the whole answer. */
  answer(intent: Command, signal: AbortSignal): Promise<string>;
  /** Says "yes". */
  yes(signal: AbortSignal): Promise<string>;
  /** Says "no". */
  no(signal: AbortSignal): Promise<string>;
  readonly offers: OfferDialogue;
}

export function wearer(
  orders: OrdersPort,
  clock: Clock,
  options: { confirmWindowMs?: number; log?: Log } = {},
): Wearer {
  const offers = new OfferDialogue({
    clock,
    confirmWindowMs: options.confirmWindowMs ?? 8000,
    log: options.log ?? silentLogger(),
  });
  const responder = new Responder({
    now: () => new Date(2025, 2, 1, 12, 0, 0),
    battery: { percent: () => Promise.resolve(undefined) },
    volume: { louder: () => 0.8, quieter: () => 0.4 },
    vision: new NoVision(),
    orders,
    offers,
  });
  const say = async (intent: Command, signal: AbortSignal): Promise<string> => {
    const text = await responder.respond(intent, signal);
    responder.spoken(signal, true);
    return text;
  };
  return {
    answer: say,
    yes: (signal) => say({ name: 'yes', slots: {} }, signal),
    no: (signal) => say({ name: 'no', slots: {} }, signal),
    offers,
  };
}
