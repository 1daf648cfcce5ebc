/**
 * The orders client, outbox and service over real HTTP, against the development cloud
 * (firmware-ts/dev/dev-cloud) with its faults: a dropped reply, 503s with Retry-After, a cloud
 * that is down and comes back, a wrong token, a changed price.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDevCloud, type DevCloud } from '../../../firmware-ts/dev/dev-cloud/server.js';
import { OrdersClient } from '../../../firmware-ts/src/cloud/orders-client.js';
import { OrdersService } from '../../../firmware-ts/src/cloud/orders-service.js';
import { Outbox } from '../../../firmware-ts/src/cloud/outbox.js';
import { RealClock } from '../../../firmware-ts/src/hal/clock.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import type { Scene } from '../../../firmware-ts/src/vision/scene.js';
import { nongfuScene } from '../../helpers/scenes.js';
import type { OrderEvent } from '../../../firmware-ts/src/voice-loop/ports.js';
import { wearer } from '../../helpers/wearer.js';

const TOKEN = 'orders-test-token-0123456789';
const sig = (): AbortSignal => new AbortController().signal;

const SCENE: Scene = nongfuScene('test');

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function startCloud(options: { dataFile?: string; port?: number } = {}): Promise<DevCloud> {
  const cloud = await createDevCloud({ token: TOKEN, ...options });
  cleanup.push(() => cloud.close());
  return cloud;
}

async function device(baseUrl: string, options: { token?: string; dir?: string } = {}) {
  const clock = new RealClock();
  const log = silentLogger();
  const client = new OrdersClient({
    baseUrl,
    token: options.token ?? TOKEN,
    requestTimeoutMs: 2000,
    clock,
    log,
  });
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'orders-it-'));
  const outbox = await Outbox.open({ dir, client, clock, retryInitialMs: 50, retryMaxMs: 400, log });
  const events: OrderEvent[] = [];
  const service = new OrdersService({
    client,
    outbox,
    clock,
    vision: { look: () => Promise.resolve(SCENE), sceneFor: () => undefined },
    limits: { maxOrderAmount: 500, maxDailyAmount: 1000 },
    now: () => new Date(),
    onOrder: (e) => events.push(e),
    log,
    placeWaitMs: 1500,
  });
  const stop = new AbortController();
  const sender = outbox.run(stop.signal);
  cleanup.push(async () => {
    stop.abort();
    outbox.close();
    await sender;
  });
  return { service: wearer(service, clock), outbox, events, dir };
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('orders over HTTP against the development cloud', () => {
  it('buys what the wearer looks at, in the quantity said, and tracks it', async () => {
    const cloud = await startCloud();
    const { service, events } = await device(cloud.url);
    expect(await service.answer({ name: 'buy', slots: { quantity: 2 } }, sig())).toBe(
      'The best match is Nongfu Spring water, 550 ml, 2 yuan each, from Daily Mart. Two would be 4 yuan. ' +
        'Say yes to buy it.',
    );
    const reply = await service.yes(sig());
    const [order] = cloud.orders();
    expect(cloud.orders()).toHaveLength(1);
    expect(order).toMatchObject({
      itemId: 'p-water-nongfu',
      quantity: 2,
      total: { amount: 4, currency: 'CNY' },
    });
    expect(reply).toMatch(/^Done\. Order [0-9A-Z ]+ is placed\.$/);
    expect(events).toEqual([{ orderId: order!.orderId, status: 'placed', state: 'placed' }]);
    expect(await service.answer({ name: 'order_status', slots: {} }, sig())).toMatch(
      /^Your order of Nongfu Spring water, 550 ml is placed, ready in about \d+ minutes\.$/,
    );
    expect(await service.yes(sig())).toBe("There's nothing to confirm right now.");
    expect(cloud.orders()).toHaveLength(1);
  });

  it('orders a service the wearer asked for', async () => {
    const cloud = await startCloud();
    const { service } = await device(cloud.url);
    expect(await service.answer({ name: 'order', slots: { item: 'coffee' } }, sig())).toBe(
      'I can order Americano, large from Corner Cafe for 15 yuan, ready in about 15 minutes. Say yes to order it.',
    );
    await service.yes(sig());
    expect(cloud.orders().map((o) => o.itemId)).toEqual(['s-coffee-americano']);
  });

  it('a reply dropped after the order was placed ends with exactly one order', async () => {
    const cloud = await startCloud();
    cloud.setFaults({ orders: { dropResponse: 1 } });
    const { service, outbox, events } = await device(cloud.url);
    await service.answer({ name: 'buy', slots: { quantity: 1 } }, sig());
    // The attempt made while the wearer waits loses the reply (the server placed it): saved and queued.
    expect(await service.yes(sig())).toBe(
      "I've saved your order and will send it as soon as I can reach the cloud.",
    );
    const key = outbox.latest()!.key;
    await until(() => outbox.pending().length === 0, 'acknowledged');
    expect(cloud.orders()).toHaveLength(1);
    const orderId = cloud.orders()[0]!.orderId;
    expect(outbox.latest()?.order?.orderId).toBe(orderId);
    // The sender resent it under the same key and got the same order back.
    expect(events).toEqual([
      { orderId: key, status: 'pending', state: 'queued' },
      { orderId, status: 'placed', state: 'placed' },
    ]);
  });

  it('503s with Retry-After are retried until the order is placed, once', async () => {
    const cloud = await startCloud();
    const { service, outbox } = await device(cloud.url);
    await service.answer({ name: 'buy', slots: { quantity: 1 } }, sig());
    cloud.setFaults({ orders: { status5xx: 2, retryAfterS: 1 } });
    const t0 = Date.now();
    expect(await service.yes(sig())).toBe(
      "I've saved your order and will send it as soon as I can reach the cloud.",
    );
    await until(() => outbox.pending().length === 0, 'acknowledged');
    // Two refusals, each asking for a second.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(cloud.orders()).toHaveLength(1);
  });

  it('a cloud that is down gets the order when it is back', async () => {
    const dataFile = join(mkdtempSync(join(tmpdir(), 'cloud-')), 'orders.json');
    const first = await createDevCloud({ token: TOKEN, dataFile });
    const port = Number(new URL(first.url).port);
    const { service, outbox } = await device(first.url);
    await service.answer({ name: 'buy', slots: { quantity: 1 } }, sig());
    await first.close();
    expect(await service.yes(sig())).toBe(
      "I've saved your order and will send it as soon as I can reach the cloud.",
    );
    expect(await service.answer({ name: 'order_status', slots: {} }, sig())).toBe(
      'Your order of Nongfu Spring water, 550 ml is queued and will be sent when the cloud is reachable.',
    );
    const again = await startCloud({ dataFile, port });
    await until(() => outbox.pending().length === 0, 'delivered after the cloud came back');
    expect(again.orders()).toHaveLength(1);
  });

  it('a changed price fails the order with its reason; a wrong token is said plainly', async () => {
    const cloud = await startCloud();
    const { outbox, service } = await device(cloud.url);
    const key = '7d0b1e7c-2a7e-4f7e-9a55-1e2f3a4b5c6d';
    await outbox.add({
      key,
      request: {
        kind: 'product',
        itemId: 'p-water-nongfu',
        quantity: 1,
        unitPrice: { amount: 1.5, currency: 'CNY' },
        confirmedAt: new Date().toISOString(),
      },
      offer: { name: 'Nongfu Spring water, 550 ml', seller: 'Daily Mart' },
    });
    await until(() => outbox.get(key)?.state === 'failed', 'refused');
    expect(cloud.orders()).toEqual([]);
    expect(await service.answer({ name: 'order_status', slots: {} }, sig())).toBe(
      'Your order of Nongfu Spring water, 550 ml could not be placed: the price changed since you said yes.',
    );

    const stranger = await device(cloud.url, { token: 'not-the-device-token-000' });
    expect(await stranger.service.answer({ name: 'buy', slots: { quantity: 1 } }, sig())).toBe(
      "The orders service didn't accept this device, so I can't order.",
    );
  });
});
