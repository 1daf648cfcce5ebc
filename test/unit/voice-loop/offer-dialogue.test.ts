import { describe, expect, it } from 'vitest';
import { GlassesError } from '../../../firmware-ts/src/errors.js';
import { SimulatedClock } from '../../../firmware-ts/src/hal/clock.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import {
  CANCELLED,
  NOTHING_TO_CONFIRM,
  OFFER_DECLINED,
  OFFER_EXPIRED,
  OfferDialogue,
} from '../../../firmware-ts/src/voice-loop/offer-dialogue.js';
import type { Offer } from '../../../firmware-ts/src/voice-loop/ports.js';

function setup() {
  const clock = new SimulatedClock();
  const dialogue = new OfferDialogue({ clock, confirmWindowMs: 8000, log: silentLogger() });
  const accepted: string[] = [];
  const offer = (name: string): Offer => ({
    kind: 'product',
    accept: () => {
      accepted.push(name);
      return Promise.resolve(`placed ${name}`);
    },
  });
  return { clock, dialogue, accepted, offer };
}

const turn = (): AbortController => new AbortController();
const sig = (): AbortSignal => new AbortController().signal;

describe('OfferDialogue: one owner for an offer and every way it ends', () => {
  it('yes accepts a heard offer once; a second yes finds nothing', async () => {
    const { dialogue, accepted, offer } = setup();
    const t = turn();
    dialogue.propose(offer('water'), t.signal);
    dialogue.said(t.signal, true);
    const replies = await Promise.all([dialogue.yes(sig()), dialogue.yes(sig())]);
    expect(replies).toEqual(['placed water', NOTHING_TO_CONFIRM]);
    expect(accepted).toEqual(['water']);
  });

  it('no declines a heard offer, and with nothing open just acknowledges', async () => {
    const { dialogue, accepted, offer } = setup();
    expect(dialogue.no()).toBe(CANCELLED);
    const t = turn();
    dialogue.propose(offer('water'), t.signal);
    dialogue.said(t.signal, true);
    expect(dialogue.no()).toBe(OFFER_DECLINED);
    expect(await dialogue.yes(sig())).toBe(NOTHING_TO_CONFIRM);
    expect(accepted).toEqual([]);
  });

  it('the confirm window counts from the end of the offer, on the clock, and then it ends', async () => {
    const { dialogue, clock, accepted, offer } = setup();
    const t = turn();
    dialogue.propose(offer('water'), t.signal);
    // Saying it took 7 s: the window starts when the wearer has heard it.
    await clock.advance(7000);
    dialogue.said(t.signal, true);
    await clock.advance(8000);
    expect(await dialogue.yes(sig())).toBe('placed water');
    const u = turn();
    dialogue.propose(offer('tea'), u.signal);
    dialogue.said(u.signal, true);
    await clock.advance(8001);
    expect(await dialogue.yes(sig())).toBe(OFFER_EXPIRED);
    expect(await dialogue.yes(sig())).toBe(NOTHING_TO_CONFIRM);
    expect(accepted).toEqual(['water']);
  });

  it('an offer cut short, or whose turn is aborted before it is heard, is dropped', async () => {
    const { dialogue, accepted, offer } = setup();
    const cut = turn();
    dialogue.propose(offer('cut'), cut.signal);
    dialogue.said(cut.signal, false);
    expect(await dialogue.yes(sig())).toBe(NOTHING_TO_CONFIRM);
    // Barge-in while the offer was still being worked out or said: the turn aborts first.
    const barged = turn();
    dialogue.propose(offer('barged'), barged.signal);
    barged.abort();
    dialogue.said(barged.signal, true);
    expect(await dialogue.yes(sig())).toBe(NOTHING_TO_CONFIRM);
    // Made by a turn already aborted: never open.
    const late = turn();
    late.abort();
    dialogue.propose(offer('late'), late.signal);
    expect(await dialogue.yes(sig())).toBe(NOTHING_TO_CONFIRM);
    expect(accepted).toEqual([]);
  });

  it("a heard offer stays open through other answers, and the turn's abort after it was heard", async () => {
    const { dialogue, accepted, offer } = setup();
    const t = turn();
    dialogue.propose(offer('water'), t.signal);
    dialogue.said(t.signal, true);
    // Another answer of the same turn or another one, cut short or not, is not the offer.
    dialogue.said(t.signal, false);
    dialogue.said(sig(), false);
    t.abort();
    expect(await dialogue.yes(sig())).toBe('placed water');
    expect(accepted).toEqual(['water']);
  });

  it('yes before the offer has been heard confirms nothing; a new offer replaces the old one', async () => {
    const { dialogue, accepted, offer } = setup();
    const t = turn();
    dialogue.propose(offer('water'), t.signal);
    expect(await dialogue.yes(sig())).toBe(NOTHING_TO_CONFIRM);
    dialogue.said(t.signal, true);
    const u = turn();
    dialogue.propose(offer('tea'), u.signal);
    dialogue.said(u.signal, true);
    expect(await dialogue.yes(sig())).toBe('placed tea');
    expect(await dialogue.yes(sig())).toBe(NOTHING_TO_CONFIRM);
    expect(accepted).toEqual(['tea']);
  });

  it('a yes whose own turn is already aborted accepts nothing and keeps the offer', async () => {
    const { dialogue, accepted, offer } = setup();
    const t = turn();
    dialogue.propose(offer('water'), t.signal);
    dialogue.said(t.signal, true);
    const gone = turn();
    gone.abort();
    await expect(dialogue.yes(gone.signal)).rejects.toThrow(GlassesError);
    expect(accepted).toEqual([]);
    expect(await dialogue.yes(sig())).toBe('placed water');
  });
});
