import { describe, expect, it } from 'vitest';
import type { Intent } from '../../../firmware-ts/src/speech/intents.js';
import type { Command } from '../../../firmware-ts/src/voice-loop/machine.js';
import {
  NoVision,
  type Offer,
  type OrdersPort,
  type OrdersReply,
} from '../../../firmware-ts/src/voice-loop/ports.js';
import { Responder, type ResponderDeps } from '../../../firmware-ts/src/voice-loop/responder.js';

const OFFER: Offer = { kind: 'product', accept: () => Promise.resolve('placed') };

class RecordingOrders implements OrdersPort {
  readonly calls: string[] = [];
  answer(intent: Intent): Promise<OrdersReply> {
    this.calls.push(`answer:${intent.name}`);
    return Promise.resolve(intent.name === 'buy' ? { text: 'offer', offer: OFFER } : { text: 'status' });
  }
}

class RecordingOffers implements Pick<ResponderDeps['offers'], 'propose' | 'said' | 'yes' | 'no'> {
  readonly calls: unknown[][] = [];
  propose(offer: Offer, signal: AbortSignal): void {
    this.calls.push(['propose', offer, signal]);
  }
  said(signal: AbortSignal, completed: boolean): void {
    this.calls.push(['said', signal, completed]);
  }
  yes(): Promise<string> {
    this.calls.push(['yes']);
    return Promise.resolve('placed');
  }
  no(): string {
    this.calls.push(['no']);
    return 'declined';
  }
}

function responder(orders: OrdersPort, offers: RecordingOffers): Responder {
  return new Responder({
    now: () => new Date(2025, 0, 1, 9, 5),
    battery: { percent: () => Promise.resolve(undefined) },
    volume: { louder: () => 0.8, quieter: () => 0.6 },
    vision: new NoVision(),
    orders,
    offers,
  });
}

const intent = (name: Command['name']): Command => ({ name, slots: {} });
const signal = new AbortController().signal;

describe('Responder, the orders port and the offer dialogue', () => {
  it('hands buy and status to the orders port, the offer it makes to the dialogue, and yes / no to the dialogue alone', async () => {
    const orders = new RecordingOrders();
    const offers = new RecordingOffers();
    const r = responder(orders, offers);
    expect(await r.respond(intent('buy'), signal)).toBe('offer');
    expect(await r.respond(intent('order_status'), signal)).toBe('status');
    expect(await r.respond(intent('yes'), signal)).toBe('placed');
    expect(await r.respond(intent('no'), signal)).toBe('declined');
    expect(orders.calls).toEqual(['answer:buy', 'answer:order_status']);
    expect(offers.calls).toEqual([['propose', OFFER, signal], ['yes'], ['no']]);
  });

  it('tells the dialogue each answer has been said, with its turn and whether to its end', async () => {
    const offers = new RecordingOffers();
    const r = responder(new RecordingOrders(), offers);
    const other = new AbortController().signal;
    r.spoken(signal, true);
    r.spoken(other, false);
    expect(await r.respond(intent('time'), signal)).toBe("It's 9 oh 5 AM.");
    expect(offers.calls).toEqual([
      ['said', signal, true],
      ['said', other, false],
    ]);
  });
});
