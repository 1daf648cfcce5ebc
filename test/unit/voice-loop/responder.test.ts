import { describe, expect, it } from 'vitest';
import type { Intent } from '../../../firmware-ts/src/speech/intents.js';
import { NoVision, type OrdersPort } from '../../../firmware-ts/src/voice-loop/ports.js';
import { Responder } from '../../../firmware-ts/src/voice-loop/responder.js';

class RecordingOrders implements OrdersPort {
  readonly calls: string[] = [];
  answer(intent: Intent): Promise<string> {
    this.calls.push(`answer:${intent.name}`);
    return Promise.resolve('offer');
  }
  confirm(): Promise<string> {
    this.calls.push('confirm');
    return Promise.resolve('placed');
  }
  decline(): string | undefined {
    this.calls.push('decline');
    return undefined;
  }
  offerSpoken(completed: boolean): void {
    this.calls.push(`spoken:${completed}`);
  }
}

function responder(orders: OrdersPort): Responder {
  return new Responder({
    now: () => new Date(2025, 0, 1, 9, 5),
    battery: { percent: () => Promise.resolve(undefined) },
    volume: { louder: () => 0.8, quieter: () => 0.6 },
    vision: new NoVision(),
    orders,
  });
}

const intent = (name: Intent['name']): Intent => ({ name, slots: {} });
const signal = new AbortController().signal;

describe('Responder and the orders port', () => {
  it('hands buy, order and status to the orders port, yes to confirm, and no to decline', async () => {
    const orders = new RecordingOrders();
    const r = responder(orders);
    expect(await r.respond(intent('buy'), signal)).toBe('offer');
    expect(await r.respond(intent('yes'), signal)).toBe('placed');
    expect(await r.respond(intent('no'), signal)).toBe('Okay.');
    expect(orders.calls).toEqual(['answer:buy', 'confirm', 'decline']);
  });

  it('tells the orders port when an offer has been said, and whether to its end', () => {
    const orders = new RecordingOrders();
    const r = responder(orders);
    r.spoken(intent('buy'), true);
    r.spoken(intent('order'), false);
    // Other answers never touch an offer: "what time is it" between offer and yes keeps it as it is.
    r.spoken(intent('time'), true);
    r.spoken(intent('yes'), true);
    expect(orders.calls).toEqual(['spoken:true', 'spoken:false']);
  });
});
