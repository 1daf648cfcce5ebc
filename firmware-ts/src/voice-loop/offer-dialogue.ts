/**
 * The dialogue an offer opens, from its one owner: "buy this" -> the offer is said -> the wearer says
 * yes, says no, says nothing until the confirm window runs out, or cuts the offer short (barge-in,
 * "stop", shutdown). The pending offer lives here and nowhere else, and each of those endings is
 * handled here: the responder hands "yes" and "no" to it, the orders port only makes offers and
 * places the one this dialogue accepts. (STYLE.md 15: a dialogue that spans turns has one owner.)
 *
 * An offer counts only once the wearer has heard it to its end: the window starts then, and an offer
 * whose turn was aborted before that (barge-in while it was being worked out or said) is dropped.
 */
import { GlassesError } from '../errors.js';
import type { Clock } from '../hal/clock.js';
import type { Log } from '../log.js';
import type { Offer } from './ports.js';

/** How an offer ended, for the log. */
export type OfferEnd = 'accepted' | 'declined' | 'expired' | 'interrupted' | 'replaced';

export interface OfferDialogueDeps {
  /** The loop's clock: the confirm window is the wearer's time. */
  clock: Clock;
  /** How long a heard offer waits for "yes" (orders.confirmWindowMs). */
  confirmWindowMs: number;
  log: Log;
}

interface Pending {
  readonly offer: Offer;
  /** The turn that made it. */
  readonly signal: AbortSignal;
  readonly onAbort: () => void;
  /** Set once the wearer has heard the offer to its end. */
  expiresAtMs: number | undefined;
}

export const NOTHING_TO_CONFIRM = "There's nothing to confirm right now.";
export const OFFER_EXPIRED = "There's nothing to confirm now: that offer has expired. Ask again.";
export const OFFER_DECLINED = "Okay, I won't order it.";
/** "No" / "cancel" with no offer open. */
export const CANCELLED = 'Okay, cancelled.';

export class OfferDialogue {
  private pending: Pending | undefined;

  constructor(private readonly deps: OfferDialogueDeps) {}

  /** An answer of the turn of `signal` made `offer`: it stands once that answer has been said. */
  propose(offer: Offer, signal: AbortSignal): void {
    this.end('replaced');
    if (signal.aborted) {
      this.deps.log.info({ kind: offer.kind, end: 'interrupted' }, 'offer dropped before it was said');
      return;
    }
    const onAbort = (): void => {
      if (this.pending?.offer === offer && this.pending.expiresAtMs === undefined) this.end('interrupted');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    this.pending = { offer, signal, onAbort, expiresAtMs: undefined };
  }

  /**
   * An answer of the turn of `signal` has been said, to its end or cut short. For the offer that turn
   * made and the wearer has not yet heard: to its end, the confirm window starts; cut short, the
   * wearer did not hear the price, so it is dropped. Anything else said changes nothing.
   */
  said(signal: AbortSignal, completed: boolean): void {
    const p = this.pending;
    if (p === undefined || p.signal !== signal || p.expiresAtMs !== undefined) return;
    if (!completed) {
      this.end('interrupted');
      return;
    }
    p.signal.removeEventListener('abort', p.onAbort);
    p.expiresAtMs = this.deps.clock.now() + this.deps.confirmWindowMs;
    this.deps.log.info({ kind: p.offer.kind, confirmWindowMs: this.deps.confirmWindowMs }, 'offer heard');
  }

  /** The wearer's own "yes": accepts the heard offer, or says there is none. */
  async yes(signal: AbortSignal): Promise<string> {
    if (signal.aborted) throw new GlassesError('E_ABORTED', 'confirm cancelled');
    if (this.expire()) return OFFER_EXPIRED;
    const p = this.pending;
    if (p?.expiresAtMs === undefined) return NOTHING_TO_CONFIRM;
    // Ended before any await: a second "yes", even one racing this, finds nothing to confirm.
    this.end('accepted');
    return p.offer.accept(signal);
  }

  /** The wearer's "no" (or "cancel"): drops the offer. */
  no(): string {
    this.expire();
    const heard = this.pending?.expiresAtMs !== undefined;
    this.end('declined');
    return heard ? OFFER_DECLINED : CANCELLED;
  }

  /** Ends a heard offer whose window has run out; true if it did just now. */
  private expire(): boolean {
    const at = this.pending?.expiresAtMs;
    if (at === undefined || this.deps.clock.now() <= at) return false;
    this.end('expired');
    return true;
  }

  private end(how: OfferEnd): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    p.signal.removeEventListener('abort', p.onAbort);
    this.deps.log.info({ kind: p.offer.kind, end: how }, 'offer ended');
  }
}
