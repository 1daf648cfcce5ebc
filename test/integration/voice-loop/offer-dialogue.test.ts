/**
 * An offer across turns, through the real runner, state machine, responder, offer dialogue and orders
 * service, with the orders service's real client and outbox against the development cloud over HTTP:
 * every way an offer can end ("no" after the wake phrase, "no" in the follow-up window, the confirm
 * window running out, barge-in, "stop") leaves a later "yes" with nothing to confirm and nothing
 * ordered; only a "yes" to a heard, open offer orders, once.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDevCloud, type DevCloud } from '../../../firmware-ts/dev/dev-cloud/server.js';
import { OrdersClient } from '../../../firmware-ts/src/cloud/orders-client.js';
import { OrdersService } from '../../../firmware-ts/src/cloud/orders-service.js';
import { Outbox } from '../../../firmware-ts/src/cloud/outbox.js';
import { RealClock, SimulatedClock } from '../../../firmware-ts/src/hal/clock.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import type { Scene } from '../../../firmware-ts/src/vision/scene.js';
import { nongfuScene } from '../../helpers/scenes.js';
import type { OrderEvent } from '../../../firmware-ts/src/voice-loop/ports.js';
import { command, runScript, wake, type Cue } from '../../helpers/scripted-loop.js';

const TOKEN = 'offer-dialogue-token-0123456789';
const NOTHING = "There's nothing to confirm right now.";

const SCENE: Scene = nongfuScene('test');

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** The script run through the whole loop against a fresh development cloud and outbox. */
async function run(cues: Cue[], durationMs: number, confirmWindowMs = 20_000) {
  const cloud: DevCloud = await createDevCloud({ token: TOKEN });
  cleanup.push(() => cloud.close());
  const log = silentLogger();
  const wall = new RealClock();
  const clock = new SimulatedClock();
  const client = new OrdersClient({
    baseUrl: cloud.url,
    token: TOKEN,
    requestTimeoutMs: 2000,
    clock: wall,
    log,
  });
  const outbox = await Outbox.open({
    dir: mkdtempSync(join(tmpdir(), 'offer-dialogue-')),
    client,
    clock: wall,
    retryInitialMs: 50,
    retryMaxMs: 400,
    log,
  });
  cleanup.push(() => {
    outbox.close();
  });
  const orderEvents: OrderEvent[] = [];
  const orders = new OrdersService({
    client,
    outbox,
    clock,
    vision: { look: () => Promise.resolve(SCENE), sceneFor: () => undefined },
    limits: { maxOrderAmount: 500, maxDailyAmount: 1000 },
    now: () => new Date(),
    onOrder: (e) => orderEvents.push(e),
    log,
  });
  const result = await runScript(cues, { durationMs, orders, clock, confirmWindowMs, log });
  return { ...result, placed: cloud.orders(), saved: outbox.latest(), orderEvents };
}

const OFFER =
  /^The best match is Nongfu Spring water, 550 ml, 2 yuan, from Daily Mart\. Say yes to buy it\.$/;
const buyThis = (atMs: number): Cue => command(atMs, 'buy this', 'buy', { quantity: 1 });
const yes = (atMs: number): Cue => command(atMs, 'yes', 'yes');
const no = (atMs: number): Cue => command(atMs, 'no', 'no');

describe('an offer across turns, through the whole loop', () => {
  it('"buy this", then "no" after the wake phrase: a later "yes" finds nothing to confirm, nothing is ordered', async () => {
    // The offer is said from about 2.1 s to 5.8 s; its follow-up window closes about 10.8 s.
    const r = await run(
      [wake(1000), buyThis(1500), wake(12_000), no(12_500), wake(16_000), yes(16_500)],
      20_000,
    );
    expect(r.said).toEqual([expect.stringMatching(OFFER), "Okay, I won't order it.", NOTHING]);
    expect(r.placed).toEqual([]);
    expect(r.saved).toBeUndefined();
    expect(r.orderEvents).toEqual([]);
  }, 30_000);

  it('"no" in the follow-up window, without the wake phrase, ends the offer too', async () => {
    const r = await run([wake(1000), buyThis(1500), no(7000), wake(10_000), yes(10_500)], 14_000);
    expect(r.said).toEqual([expect.stringMatching(OFFER), "Okay, I won't order it.", NOTHING]);
    expect(r.placed).toEqual([]);
    expect(r.saved).toBeUndefined();
  }, 30_000);

  it('an offer not answered within the confirm window has ended: "yes" after it orders nothing', async () => {
    // Heard to its end about 5.8 s: an 8 s window closes about 13.8 s.
    const r = await run([wake(1000), buyThis(1500), wake(15_000), yes(15_500)], 19_000, 8000);
    expect(r.said).toHaveLength(2);
    expect(r.said[0]).toMatch(OFFER);
    expect(r.said[1]).toMatch(/^There's nothing to confirm/);
    expect(r.placed).toEqual([]);
    expect(r.saved).toBeUndefined();
  }, 30_000);

  it('an offer cut short by the wake phrase (barge-in) is not open: "yes" in the new turn orders nothing', async () => {
    const r = await run([wake(1000), buyThis(1500), wake(3500), yes(4000)], 8000);
    const offer = r.events.find((e) => e.type === 'say' && OFFER.test(e.text));
    expect(offer).toMatchObject({ completed: false });
    expect(r.said.at(-1)).toBe(NOTHING);
    expect(r.placed).toEqual([]);
    expect(r.saved).toBeUndefined();
  }, 30_000);

  it('an offer cut short by "stop" is not open either', async () => {
    const r = await run(
      [wake(1000), buyThis(1500), command(3000, 'stop', 'stop'), wake(6000), yes(6500)],
      10_000,
    );
    expect(r.events.find((e) => e.type === 'say' && OFFER.test(e.text))).toMatchObject({ completed: false });
    expect(r.said.at(-1)).toBe(NOTHING);
    expect(r.placed).toEqual([]);
  }, 30_000);

  it('a "yes" to a heard, open offer orders it once, also in a later turn after another question', async () => {
    const r = await run(
      [
        wake(1000),
        buyThis(1500),
        wake(12_000),
        command(12_500, 'what time is it', 'time'),
        yes(17_000),
        yes(21_000),
      ],
      26_000,
    );
    expect(r.said[0]).toMatch(OFFER);
    expect(r.said[1]).toMatch(/^It's /);
    expect(r.said[2]).toMatch(/^Done\. Order [0-9A-Z ]+ is placed\.$/);
    expect(r.placed).toHaveLength(1);
    expect(r.placed[0]).toMatchObject({ itemId: 'p-water-nongfu', quantity: 1 });
    expect(r.orderEvents.map((e) => e.state)).toEqual(['placed']);
    // The second "yes" (in the follow-up window of the first) finds the offer used up.
    expect(r.said[3]).toBe(NOTHING);
  }, 30_000);
});
