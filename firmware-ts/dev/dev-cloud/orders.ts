/**
 * The development cloud's orders: one order per Idempotency-Key, kept in a JSON file so that a
 * restarted server still knows every order and every key (the device's kill -9 test counts them).
 * Statuses are not stored: they follow from `createdAt` and the time asked, so they advance on their
 * own and read the same after a restart.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../src/util/atomic-file.js';
import { makePrivateDir } from '../../src/util/private-file.js';
import { findItem, sameMoney, type Money } from './catalogue.js';

/** Whole hundredths (orders.openapi.yaml Money: multipleOf 0.01), with room for binary rounding. */
function inHundredths(amount: number): boolean {
  return Math.abs(amount * 100 - Math.round(amount * 100)) < 1e-6;
}

export const moneySchema = z.object({
  amount: z.number().min(0).refine(inHundredths, 'expected at most two decimals, e.g. 12.5'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as CNY'),
});

/** OrderRequest of firmware-ts/api/orders.openapi.yaml. Unknown fields are dropped, not refused. */
export const orderRequestSchema = z.object({
  kind: z.enum(['product', 'service']),
  itemId: z.string().min(1),
  quantity: z.number().int().min(1).max(99),
  unitPrice: moneySchema,
  confirmedAt: z.iso.datetime({ offset: true }),
});
export type OrderRequest = z.infer<typeof orderRequestSchema>;

/** orders.openapi.yaml's Idempotency-Key: the device sends a UUID. */
export const IDEMPOTENCY_KEY = {
  pattern: /^[A-Za-z0-9-]{16,128}$/,
  rule: '16 to 128 letters, digits or hyphens (a UUID)',
} as const;

export type OrderStatus = 'placed' | 'preparing' | 'shipped' | 'delivered' | 'cancelled';

/** Order of the API. */
export interface Order {
  readonly orderId: string;
  readonly status: OrderStatus;
  readonly kind: 'product' | 'service';
  readonly itemId: string;
  readonly name: string;
  readonly quantity: number;
  readonly total: Money;
  readonly createdAt: string;
  /** Minutes until delivered (0 once it is). */
  readonly etaMinutes: number;
}

const placedOrderSchema = z.object({
  orderId: z.string().min(1),
  kind: z.enum(['product', 'service']),
  itemId: z.string().min(1),
  name: z.string(),
  quantity: z.number().int().min(1),
  total: moneySchema,
  createdAt: z.iso.datetime({ offset: true }),
  /** From placing to delivered, fixed when placed so a catalogue change does not rewrite history. */
  deliveryMinutes: z.number().min(0),
});
type PlacedOrder = z.infer<typeof placedOrderSchema>;

const recordSchema = z.object({
  idempotencyKey: z.string(),
  request: orderRequestSchema,
  order: placedOrderSchema,
});
type OrderRecord = z.infer<typeof recordSchema>;

const fileSchema = z.object({ version: z.literal(1), orders: z.array(recordSchema) });

/** The outcome of a POST /v1/orders, for the server to turn into a status code. */
export type PlaceResult =
  | { readonly result: 'placed'; readonly order: Order }
  | { readonly result: 'replayed'; readonly order: Order }
  | { readonly result: 'conflict'; readonly orderId: string }
  | { readonly result: 'not_found' }
  | { readonly result: 'price_changed'; readonly price: Money };

/** Time in the `placed` state before the shop starts on it. */
const PLACED_MS = 60_000;
/** The share of the delivery time spent preparing; the rest is on the way (shipped). */
const PREPARING_SHARE = 0.4;

/**
 * placed (first minute) -> preparing -> shipped (the last 60% of the delivery time: a parcel on the
 * road, a coffee or a taxi on its way) -> delivered. The API has no "ready", so a service that is
 * on its way is `shipped` too.
 */
export function statusAt(
  createdAtMs: number,
  deliveryMinutes: number,
  nowMs: number,
): { status: OrderStatus; etaMinutes: number } {
  const deliveryMs = deliveryMinutes * 60_000;
  const elapsed = Math.max(0, nowMs - createdAtMs);
  const etaMinutes = Math.max(0, Math.ceil((deliveryMs - elapsed) / 60_000));
  if (elapsed >= deliveryMs) return { status: 'delivered', etaMinutes: 0 };
  if (elapsed < Math.min(PLACED_MS, deliveryMs * PREPARING_SHARE)) return { status: 'placed', etaMinutes };
  if (elapsed < deliveryMs * PREPARING_SHARE) return { status: 'preparing', etaMinutes };
  return { status: 'shipped', etaMinutes };
}

/** The fields that make two requests "the same body", in a fixed order (key order on the wire is free). */
function fingerprint(r: OrderRequest): string {
  return JSON.stringify([
    r.kind,
    r.itemId,
    r.quantity,
    r.unitPrice.amount,
    r.unitPrice.currency,
    r.confirmedAt,
  ]);
}

interface Entry {
  readonly record: OrderRecord;
  /** Settles when the file holds this order: a retry must not be told about an order not yet durable. */
  readonly saved: Promise<void>;
}

export class OrderStore {
  private readonly byKey = new Map<string, Entry>();
  private readonly byId = new Map<string, Entry>();
  /** Writes run one after another, each writing the whole list, so the file never goes back in time. */
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string | undefined,
    private readonly now: () => number,
  ) {}

  /** Loads `file` when it exists; `undefined` keeps orders in memory only. */
  static async open(file: string | undefined, now: () => number): Promise<OrderStore> {
    const store = new OrderStore(file, now);
    if (file === undefined) return store;
    // Orders, like the device's outbox: 0600 (writeFileAtomic's default) in a 0700 folder.
    await makePrivateDir(dirname(file));
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new Error(`${file} is not JSON: ${(err as Error).message}`, { cause: err });
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(
        `${file} is not a development-cloud orders file: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`,
      );
    }
    for (const record of parsed.data.orders) store.remember({ record, saved: Promise.resolve() });
    return store;
  }

  /**
   * Places the order once per key. The same key and body again returns that order; the same key with
   * another body is a conflict, whatever the catalogue now says. The order is on disk before this
   * resolves, so a reply lost on the way (or a server killed after it) cannot lose it.
   */
  async place(idempotencyKey: string, request: OrderRequest): Promise<PlaceResult> {
    const known = this.byKey.get(idempotencyKey);
    if (known !== undefined) {
      if (fingerprint(known.record.request) !== fingerprint(request))
        return { result: 'conflict', orderId: known.record.order.orderId };
      await known.saved;
      return { result: 'replayed', order: this.view(known.record.order) };
    }
    const item = findItem(request.kind, request.itemId);
    if (item === undefined) return { result: 'not_found' };
    if (!sameMoney(item.price, request.unitPrice)) return { result: 'price_changed', price: item.price };
    const order: PlacedOrder = {
      // Random throughout: the wearer hears the last four characters (shortId), and a UUIDv4's
      // thirteenth hex digit is always 4.
      orderId: `ord_${randomBytes(8).toString('hex')}`,
      kind: request.kind,
      itemId: request.itemId,
      name: item.name,
      quantity: request.quantity,
      total: {
        amount: Math.round(item.price.amount * request.quantity * 100) / 100,
        currency: item.price.currency,
      },
      createdAt: new Date(this.now()).toISOString(),
      deliveryMinutes: item.etaMinutes,
    };
    // Remembered before the write starts, so a concurrent retry with this key waits for this write
    // instead of placing a second order.
    const entry: Entry = { record: { idempotencyKey, request, order }, saved: this.save() };
    this.remember(entry);
    try {
      await entry.saved;
    } catch (err) {
      this.byKey.delete(idempotencyKey);
      this.byId.delete(order.orderId);
      throw err;
    }
    return { result: 'placed', order: this.view(order) };
  }

  get(orderId: string): Order | undefined {
    const entry = this.byId.get(orderId);
    return entry && this.view(entry.record.order);
  }

  /** Every order, oldest first, with its status now. */
  list(): Order[] {
    return [...this.byId.values()].map((e) => this.view(e.record.order));
  }

  /** Resolves once every write started so far is on disk (or has failed). */
  async flushed(): Promise<void> {
    await this.saving.catch(() => undefined);
  }

  private remember(entry: Entry): void {
    this.byKey.set(entry.record.idempotencyKey, entry);
    this.byId.set(entry.record.order.orderId, entry);
  }

  private save(): Promise<void> {
    const file = this.file;
    if (file === undefined) return Promise.resolve();
    const write = async (): Promise<void> => {
      // The list is taken when the write runs, so it includes every order remembered before then.
      const orders = [...this.byId.values()].map((e) => e.record);
      await writeFileAtomic(file, `${JSON.stringify({ version: 1, orders }, null, 2)}\n`);
    };
    // A failed write must not stop the ones after it: each writes the whole list again.
    this.saving = this.saving.catch(() => undefined).then(write);
    return this.saving;
  }

  private view(o: PlacedOrder): Order {
    const { status, etaMinutes } = statusAt(Date.parse(o.createdAt), o.deliveryMinutes, this.now());
    return {
      orderId: o.orderId,
      status,
      kind: o.kind,
      itemId: o.itemId,
      name: o.name,
      quantity: o.quantity,
      total: o.total,
      createdAt: o.createdAt,
      etaMinutes,
    };
  }
}
