/**
 * The one handler of each command the loop answers: the device's own (time, battery, volume, repeat,
 * help) here, vision and order intents through their ports, and "yes" / "no" through the offer
 * dialogue, which owns whatever they answer. "stop" is not a command here: the machine handles it.
 */
import type { Command } from './machine.js';
import type { OfferDialogue } from './offer-dialogue.js';
import type { Battery, OrdersPort, VisionPort } from './ports.js';

export interface VolumeControl {
  louder(): number;
  quieter(): number;
}

export interface ResponderDeps {
  /** Wall-clock time for "what time is it" (the loop's Clock is monotonic, not a date). */
  now: () => Date;
  battery: Battery;
  volume: VolumeControl;
  vision: VisionPort;
  orders: OrdersPort;
  /** Holds the offer an orders answer makes until "yes", "no", its timeout or an interruption. */
  offers: Pick<OfferDialogue, 'propose' | 'said' | 'yes' | 'no'>;
}

const HELP =
  'I can tell you the time and the battery level, say what you are looking at, read text, find prices, ' +
  'and buy things or order services once you confirm. Say louder or quieter to change my volume.';

export class Responder {
  private last: string | undefined;

  constructor(private readonly deps: ResponderDeps) {}

  /** What to say for an accepted command. Remembers it for "repeat that". */
  async respond(intent: Command, signal: AbortSignal): Promise<string> {
    const text = await this.compose(intent, signal);
    if (intent.name !== 'repeat') this.last = text;
    return text;
  }

  /** An answer of the turn of `signal` has been said, to its end or cut short (an offer counts from then). */
  spoken(signal: AbortSignal, completed: boolean): void {
    this.deps.offers.said(signal, completed);
  }

  /** Remembers an answer from elsewhere (the cloud) for "repeat that". */
  remember(text: string): void {
    this.last = text;
  }

  private async compose(intent: Command, signal: AbortSignal): Promise<string> {
    switch (intent.name) {
      case 'time':
        return `It's ${spokenTime(this.deps.now())}.`;
      case 'battery': {
        const pct = await this.deps.battery.percent();
        return pct === undefined
          ? "I can't read a battery on this device."
          : `The battery is at ${Math.round(pct)} percent.`;
      }
      case 'louder':
        return `Volume ${Math.round(this.deps.volume.louder() * 10)} of 10.`;
      case 'quieter':
        return `Volume ${Math.round(this.deps.volume.quieter() * 10)} of 10.`;
      case 'repeat':
        return this.last ?? "I haven't said anything yet.";
      case 'help':
        return HELP;
      case 'yes':
        return this.deps.offers.yes(signal);
      case 'no':
        return this.deps.offers.no();
      case 'identify':
      case 'read':
      case 'price':
        return this.deps.vision.answer(intent, signal);
      case 'buy':
      case 'order':
      case 'order_status': {
        const reply = await this.deps.orders.answer(intent, signal);
        if (reply.offer !== undefined) this.deps.offers.propose(reply.offer, signal);
        return reply.text;
      }
    }
  }
}

/** "3:05 PM" as a speech engine reads it well: "3 05 PM" would be read as three hundred and five. */
export function spokenTime(d: Date): string {
  const h = d.getHours();
  const m = d.getMinutes();
  const hour12 = h % 12 === 0 ? 12 : h % 12;
  const minutes = m === 0 ? "o'clock" : m < 10 ? `oh ${m}` : String(m);
  return `${hour12} ${minutes} ${h < 12 ? 'AM' : 'PM'}`;
}
