import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OrderStore, statusAt, type OrderRequest } from '../../../../firmware-ts/dev/dev-cloud/orders.js';

const T0 = Date.parse('2026-01-01T08:00:00.000Z');
const MIN = 60_000;

const latte: OrderRequest = {
  kind: 'service',
  itemId: 's-coffee-latte',
  quantity: 2,
  unitPrice: { amount: 18, currency: 'CNY' },
  confirmedAt: '2026-01-01T07:59:58.000Z',
};
const KEY = '0b9d6c3e-5f4a-4c1e-9a57-2f1d7c1b8e01';

function clock(start = T0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

describe('statusAt', () => {
  it('moves placed -> preparing -> shipped -> delivered, from createdAt alone', () => {
    // A product: 180 minutes to deliver; 40% of it preparing.
    const at = (min: number): ReturnType<typeof statusAt> => statusAt(T0, 180, T0 + min * MIN);
    expect(at(0)).toEqual({ status: 'placed', etaMinutes: 180 });
    expect(at(0.99).status).toBe('placed');
    expect(at(1)).toEqual({ status: 'preparing', etaMinutes: 179 });
    expect(at(71.9).status).toBe('preparing');
    expect(at(72)).toEqual({ status: 'shipped', etaMinutes: 108 });
    expect(at(179.5)).toEqual({ status: 'shipped', etaMinutes: 1 });
    expect(at(180)).toEqual({ status: 'delivered', etaMinutes: 0 });
    expect(at(10_000)).toEqual({ status: 'delivered', etaMinutes: 0 });
  });

  it('keeps a short service in each state for a share of its time', () => {
    // A taxi in 6 minutes: placed for a minute, preparing to 2.4 min (40%), then on its way.
    const taxi = [0.5, 1.5, 2.4, 5.9, 6].map((min) => statusAt(T0, 6, T0 + min * MIN).status);
    expect(taxi).toEqual(['placed', 'preparing', 'shipped', 'shipped', 'delivered']);
    // Two minutes: the first minute would leave nothing for preparing, so placed ends at 40% too.
    const quick = [0.7, 0.8, 1.9].map((min) => statusAt(T0, 2, T0 + min * MIN).status);
    expect(quick).toEqual(['placed', 'shipped', 'shipped']);
  });

  it('does not go backwards for a clock before createdAt', () => {
    expect(statusAt(T0, 15, T0 - 5 * MIN)).toEqual({ status: 'placed', etaMinutes: 15 });
  });
});

describe('OrderStore idempotency', () => {
  it('places once per key: the same body again returns the same order', async () => {
    const store = await OrderStore.open(undefined, clock().now);
    const first = await store.place(KEY, latte);
    expect(first.result).toBe('placed');
    if (first.result !== 'placed') return;
    expect(first.order).toMatchObject({
      status: 'placed',
      kind: 'service',
      itemId: 's-coffee-latte',
      name: 'Latte, large',
      quantity: 2,
      total: { amount: 36, currency: 'CNY' },
      createdAt: '2026-01-01T08:00:00.000Z',
      etaMinutes: 15,
    });
    // Key order in the body does not make it another body.
    const again = await store.place(KEY, { ...latte, unitPrice: { currency: 'CNY', amount: 18 } });
    expect(again).toEqual({ result: 'replayed', order: first.order });
    expect(store.list()).toHaveLength(1);
  });

  it('refuses the same key with a different body, and names the order it placed', async () => {
    const store = await OrderStore.open(undefined, clock().now);
    const first = await store.place(KEY, latte);
    if (first.result !== 'placed') throw new Error('not placed');
    for (const other of [
      { ...latte, quantity: 3 },
      { ...latte, itemId: 's-coffee-americano', unitPrice: { amount: 15, currency: 'CNY' } },
      { ...latte, confirmedAt: '2026-01-01T07:59:59.000Z' },
    ]) {
      expect(await store.place(KEY, other)).toEqual({ result: 'conflict', orderId: first.order.orderId });
    }
    expect(store.list()).toHaveLength(1);
  });

  it('refuses a price the catalogue no longer has, giving the current one, and places nothing', async () => {
    const store = await OrderStore.open(undefined, clock().now);
    expect(await store.place(KEY, { ...latte, unitPrice: { amount: 16, currency: 'CNY' } })).toEqual({
      result: 'price_changed',
      price: { amount: 18, currency: 'CNY' },
    });
    expect(await store.place(KEY, { ...latte, unitPrice: { amount: 18, currency: 'USD' } })).toMatchObject({
      result: 'price_changed',
    });
    expect(await store.place(KEY, { ...latte, itemId: 'nope' })).toEqual({ result: 'not_found' });
    // Nothing was placed under the key, so the right body can still use it.
    expect((await store.place(KEY, latte)).result).toBe('placed');
  });

  it('compares prices to the cent, not as binary floats', async () => {
    const store = await OrderStore.open(undefined, clock().now);
    const r = await store.place(KEY, {
      kind: 'product',
      itemId: 'p-apple-fuji',
      quantity: 3,
      unitPrice: { amount: 12.8000000001, currency: 'CNY' },
      confirmedAt: latte.confirmedAt,
    });
    expect(r.result).toBe('placed');
    if (r.result === 'placed') expect(r.order.total).toEqual({ amount: 38.4, currency: 'CNY' });
  });

  it('places one order for concurrent requests with the same key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dev-cloud-orders-'));
    const store = await OrderStore.open(join(dir, 'orders.json'), clock().now);
    const results = await Promise.all([1, 2, 3].map(() => store.place(KEY, latte)));
    expect(results.map((r) => r.result).sort()).toEqual(['placed', 'replayed', 'replayed']);
    expect(
      new Set(results.map((r) => (r.result === 'conflict' || !('order' in r) ? '' : r.order.orderId))).size,
    ).toBe(1);
    expect(store.list()).toHaveLength(1);
  });

  it('advances the status of stored orders with time', async () => {
    const c = clock();
    const store = await OrderStore.open(undefined, c.now);
    const r = await store.place(KEY, latte);
    if (r.result !== 'placed') throw new Error('not placed');
    c.advance(3 * MIN);
    expect(store.get(r.order.orderId)).toMatchObject({ status: 'preparing', etaMinutes: 12 });
    c.advance(12 * MIN);
    expect(store.get(r.order.orderId)).toMatchObject({ status: 'delivered', etaMinutes: 0 });
    expect(store.get('ord_unknown')).toBeUndefined();
  });
});

describe('OrderStore persistence', () => {
  it('writes every order and key to the file, and a new store reloads them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dev-cloud-orders-'));
    const file = join(dir, 'sub', 'orders.json');
    const c = clock();
    const store = await OrderStore.open(file, c.now);
    const a = await store.place(KEY, latte);
    const b = await store.place('another-key-0000000001', { ...latte, quantity: 1 });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ version: 1, orders: [{}, {}] });

    const reopened = await OrderStore.open(file, c.now);
    expect(reopened.list()).toEqual(store.list());
    expect(await reopened.place(KEY, latte)).toEqual({
      result: 'replayed',
      order: 'order' in a ? a.order : undefined,
    });
    expect((await reopened.place('another-key-0000000001', latte)).result).toBe('conflict');
    expect(b.result).toBe('placed');
  });

  it('refuses a data file that is not its own, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dev-cloud-orders-'));
    const notJson = join(dir, 'a.json');
    writeFileSync(notJson, '{"version":1,');
    await expect(OrderStore.open(notJson, Date.now)).rejects.toThrow(`${notJson} is not JSON`);
    const wrong = join(dir, 'b.json');
    writeFileSync(wrong, JSON.stringify({ version: 1, orders: [{ idempotencyKey: 'k' }] }));
    await expect(OrderStore.open(wrong, Date.now)).rejects.toThrow(
      /b\.json is not a development-cloud orders file: orders\.0\.request/,
    );
  });
});
