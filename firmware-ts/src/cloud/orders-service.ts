/**
 * See-and-buy and ask-and-fulfill behind the voice loop's `OrdersPort`.
 *
 * An order can only come from the wearer's own confirmed intent: an offer is made only for the buy and
 * order intents of the on-device recogniser, and placed only when it is accepted, which the offer
 * dialogue (voice-loop/offer-dialogue.ts) does only for the wearer's own "yes" while it is pending.
 * Text the camera read is used as search terms and nothing else (a label saying "buy ten phones" buys
 * nothing), the quantity is the one the wearer said, and nothing from the language model reaches this
 * module. This module holds no offer: whether one is pending, and how it ends, is the dialogue's.
 */
import { randomUUID } from 'node:crypto';
import { GlassesError, isGlassesError } from '../errors.js';
import type { Clock } from '../hal/clock.js';
import type { Log } from '../log.js';
import type { Intent } from '../speech/intents.js';
import { blockNearestCentre } from '../vision/ocr/ocr.js';
import { focusObject, type Scene } from '../vision/scene.js';
import type { LookFor } from '../vision/service.js';
import type { Offer, OrderEvent, OrdersPort, OrdersReply } from '../voice-loop/ports.js';
import { quantityWord, spokenMoney, times, toMinor, type Money } from './money.js';
import type { Order, OrderRequest, OrdersApi, ProductQuery } from './orders-client.js';
import type { Attempt, Outbox, OutboxEntry } from './outbox.js';

export interface OrdersVision {
  look(needs: LookFor, signal: AbortSignal): Promise<Scene>;
  sceneFor(signal: AbortSignal): Scene | undefined;
}

export type OrdersOutbox = Pick<
  Outbox,
  | 'add'
  | 'attempt'
  | 'get'
  | 'latest'
  | 'confirmedTotal'
  | 'unspokenFailures'
  | 'markFailureSpoken'
  | 'onSettled'
  | 'damage'
>;

export interface OrdersServiceDeps {
  client: Pick<OrdersApi, 'searchProducts' | 'searchServices' | 'getOrder'>;
  outbox: OrdersOutbox;
  /** Monotonic: how long placing an order waits for the cloud. */
  clock: Clock;
  /** Undefined on a device without a camera: "buy this" says so. */
  vision: OrdersVision | undefined;
  /** In the offer's currency units (orders.maxOrderAmount, orders.maxDailyAmount). */
  limits: { maxOrderAmount: number; maxDailyAmount: number };
  /** Wall-clock date: the order's confirmedAt and which day the daily limit counts. */
  now: () => Date;
  onOrder: (event: OrderEvent) => void;
  log: Log;
  /** How long "yes" waits for the cloud before saying the order is saved and queued. */
  placeWaitMs?: number;
  /** The idempotency key; random UUIDs unless a test fixes them. */
  newKey?: () => string;
}

/** What an offer would order, exactly as the wearer heard it. */
interface OfferTerms {
  readonly kind: OrderRequest['kind'];
  readonly itemId: string;
  readonly name: string;
  readonly seller: string;
  readonly unitPrice: Money;
  readonly quantity: number;
}

const DEFAULT_PLACE_WAIT_MS = 3000;
const CANT_SEE = "I can't see right now: the camera isn't working.";
const CANT_SEE_WELL = "I can't see well enough to tell.";
const NO_CAMERA = "I can't buy what you're looking at: this device has no camera connected.";
const UNREACHABLE = "I can't reach the orders service right now. Try again in a moment.";
const REFUSED_DEVICE = "The orders service didn't accept this device, so I can't order.";
const ALREADY_ACCEPTED = "There's nothing to confirm right now.";
/** Said the first time orders are asked for while the outbox holds an entry that cannot be read. */
const DAMAGED =
  "I can't place new orders: an order saved on these glasses can't be read, so I can't check " +
  "today's spending limit. It needs to be looked at.";
const DAMAGED_AGAIN = "I can't place new orders until the saved order that can't be read is looked at.";
const QUEUED = "I've saved your order and will send it as soon as I can reach the cloud.";
/** Search terms, not instructions: a few lines of the label nearest the centre, each cut short. */
const MAX_TEXT_LINES = 6;
const MAX_TEXT_CHARS = 120;
const STATUS_WORDS: Record<Order['status'], string> = {
  placed: 'placed',
  preparing: 'being prepared',
  shipped: 'shipped',
  delivered: 'delivered',
  cancelled: 'cancelled',
};

export class OrdersService implements OrdersPort {
  /** Orders already announced as placed, so the confirm path and the sender's listener say it once. */
  private readonly announced = new Set<string>();
  /** The wearer has heard that new orders are refused because of a damaged outbox entry. */
  private damageTold = false;

  constructor(private readonly deps: OrdersServiceDeps) {
    deps.outbox.onSettled((entry) => {
      if (entry.state === 'acknowledged' && entry.order !== undefined)
        this.announcePlaced(entry.key, entry.order);
    });
  }

  async answer(intent: Intent, signal: AbortSignal): Promise<OrdersReply> {
    const damaged = this.deps.outbox.damage !== undefined;
    if (damaged && (intent.name === 'buy' || intent.name === 'order')) {
      // Fail closed: no offer the daily limit could not be checked for.
      return { text: await this.withFailureNotices(this.refuseDamaged()) };
    }
    let reply: OrdersReply;
    switch (intent.name) {
      case 'buy':
        reply = await this.offerProduct(quantityOf(intent), signal);
        break;
      case 'order':
        reply = await this.offerService(String(intent.slots.item ?? ''), signal);
        break;
      case 'order_status': {
        const status = await this.status(signal);
        reply = { text: damaged && !this.damageTold ? `${this.refuseDamaged()} ${status}` : status };
        break;
      }
      default:
        reply = { text: "I can't do that with orders." };
    }
    return { ...reply, text: await this.withFailureNotices(reply.text) };
  }

  /** The wearer accepted `offer`: check the limits, save it, send it and say how it went. */
  private async place(offer: OfferTerms, signal: AbortSignal): Promise<string> {
    if (signal.aborted) throw new GlassesError('E_ABORTED', 'confirm cancelled');
    const refusal = this.overLimit(offer);
    if (refusal !== undefined) return refusal;

    const key = (this.deps.newKey ?? randomUUID)();
    const request: OrderRequest = {
      kind: offer.kind,
      itemId: offer.itemId,
      quantity: offer.quantity,
      unitPrice: { amount: offer.unitPrice.amount, currency: offer.unitPrice.currency },
      confirmedAt: this.deps.now().toISOString(),
    };
    try {
      await this.deps.outbox.add({ key, request, offer: { name: offer.name, seller: offer.seller } });
    } catch (err) {
      this.deps.log.error({ code: isGlassesError(err) ? err.code : undefined, err }, 'order not saved');
      return "I couldn't save your order, so I haven't placed it. Please try again.";
    }
    this.deps.log.info({ key, kind: offer.kind, quantity: offer.quantity }, 'order confirmed and saved');
    // From here the order stands even if the turn is cut short: it is on disk and the sender delivers it.
    await this.waitForCloud(key, signal);
    const entry = this.deps.outbox.get(key);
    if (entry?.state === 'acknowledged' && entry.order !== undefined) {
      this.announcePlaced(key, entry.order);
      return `Done. Order ${shortId(entry.order.orderId)} is placed.`;
    }
    if (entry?.state === 'failed' && entry.failure !== undefined) {
      await this.failureSpoken(key);
      return `I couldn't place the order: ${entry.failure.reason}.`;
    }
    this.deps.onOrder({ orderId: key, status: 'pending', state: 'queued' });
    return QUEUED;
  }

  private async offerProduct(quantity: number, signal: AbortSignal): Promise<OrdersReply> {
    const vision = this.deps.vision;
    if (vision === undefined) return { text: NO_CAMERA };
    let scene = vision.sceneFor(signal);
    try {
      if (scene === undefined || scene.lines === undefined || scene.objects.length === 0) {
        scene = await vision.look({ objects: true, text: true }, signal);
      }
    } catch (err) {
      if (!isGlassesError(err) || err.code === 'E_ABORTED') throw err;
      this.deps.log.warn({ code: err.code }, 'buy: could not look');
      return {
        text: err.code === 'E_CAMERA_OPEN' || err.code === 'E_CAMERA_FAILED' ? CANT_SEE : CANT_SEE_WELL,
      };
    }
    const query = productQuery(scene);
    if (query.objects.length === 0 && query.text.length === 0) {
      return { text: "I don't see anything I could look up to buy." };
    }
    return this.cloud(async () => {
      const best = (await this.deps.client.searchProducts(query, signal))[0];
      if (best === undefined) return { text: "I couldn't find that in any shop." };
      const offer = this.offer({
        kind: 'product',
        itemId: best.productId,
        name: best.name,
        seller: best.shop,
        unitPrice: best.price,
        quantity,
      });
      const each = spokenMoney(best.price);
      if (quantity === 1)
        return {
          text: `The best match is ${best.name}, ${each}, from ${best.shop}. Say yes to buy it.`,
          offer,
        };
      const total = spokenMoney(times(best.price, quantity));
      return {
        text:
          `The best match is ${best.name}, ${each} each, from ${best.shop}. ` +
          `${quantityWord(quantity)} would be ${total}. Say yes to buy it.`,
        offer,
      };
    });
  }

  private async offerService(item: string, signal: AbortSignal): Promise<OrdersReply> {
    if (item === '') return { text: "I didn't catch what to order." };
    return this.cloud(async () => {
      const best = (await this.deps.client.searchServices({ query: item, limit: 3 }, signal))[0];
      if (best === undefined) return { text: `I couldn't find anyone to order ${item} from.` };
      const offer = this.offer({
        kind: 'service',
        itemId: best.serviceId,
        name: best.name,
        seller: best.provider,
        unitPrice: best.price,
        quantity: 1,
      });
      const eta = best.etaMinutes === undefined ? '' : `, ready in about ${minutes(best.etaMinutes)}`;
      return {
        text: `I can order ${best.name} from ${best.provider} for ${spokenMoney(best.price)}${eta}. Say yes to order it.`,
        offer,
      };
    });
  }

  /** An offer of `terms`, placed at most once whoever holds it. */
  private offer(terms: OfferTerms): Offer {
    this.deps.log.info({ kind: terms.kind, quantity: terms.quantity }, 'offer made');
    let accepted = false;
    return {
      kind: terms.kind,
      accept: (signal) => {
        if (accepted) return Promise.resolve(ALREADY_ACCEPTED);
        accepted = true;
        return this.place(terms, signal);
      },
    };
  }

  private async status(signal: AbortSignal): Promise<string> {
    const latest = this.deps.outbox.latest();
    if (latest === undefined) return 'You have no orders.';
    const name = latest.offer.name;
    if (latest.state === 'pending') {
      return `Your order of ${name} is queued and will be sent when the cloud is reachable.`;
    }
    if (latest.state === 'failed' || latest.order === undefined) {
      await this.failureSpoken(latest.key);
      return `Your order of ${name} could not be placed: ${latest.failure?.reason ?? 'the orders service refused it'}.`;
    }
    const known = latest.order;
    try {
      const order = await this.deps.client.getOrder(known.orderId, signal);
      const eta =
        order.etaMinutes !== undefined && (order.status === 'placed' || order.status === 'preparing')
          ? `, ready in about ${minutes(order.etaMinutes)}`
          : '';
      return `Your order of ${order.name} is ${STATUS_WORDS[order.status]}${eta}.`;
    } catch (err) {
      if (isGlassesError(err, 'E_ABORTED')) throw err;
      this.deps.log.warn({ code: isGlassesError(err) ? err.code : undefined }, 'order status: cloud failed');
      return `Your order of ${name} was ${STATUS_WORDS[known.status]}, but I can't reach the orders service for news right now.`;
    }
  }

  /** What the wearer hears when new orders are refused for a damaged outbox: in full the first time. */
  private refuseDamaged(): string {
    const damage = this.deps.outbox.damage;
    this.deps.log.error(
      { code: damage?.code, count: damage?.details.count },
      'order refused: damaged outbox',
    );
    const text = this.damageTold ? DAMAGED_AGAIN : DAMAGED;
    this.damageTold = true;
    return text;
  }

  /**
   * The per-order and daily limits, in hundredths so that rounding never lets an order through. A
   * daily total that cannot be known (an outbox entry that cannot be read) refuses the order.
   */
  private overLimit(offer: OfferTerms): string | undefined {
    const { maxOrderAmount, maxDailyAmount } = this.deps.limits;
    const currency = offer.unitPrice.currency;
    const total = times(offer.unitPrice, offer.quantity);
    let today: Money;
    try {
      today = this.deps.outbox.confirmedTotal(currency, this.deps.now());
    } catch (err) {
      if (!isGlassesError(err, 'E_OUTBOX')) throw err;
      return this.refuseDamaged();
    }
    const perOrder = { amount: maxOrderAmount, currency };
    const daily = { amount: maxDailyAmount, currency };
    let text: string | undefined;
    if (toMinor(total) > toMinor(perOrder)) {
      text = `I can't order that: ${spokenMoney(total)} is above your limit of ${spokenMoney(perOrder)} per order.`;
    } else if (toMinor(today) + toMinor(total) > toMinor(daily)) {
      text =
        `I can't order that: with ${spokenMoney(today)} already ordered today, ${spokenMoney(total)} more ` +
        `would pass your daily limit of ${spokenMoney(daily)}.`;
    }
    if (text !== undefined) {
      const err = new GlassesError('E_ORDER_LIMIT', 'order refused: above the per-order or daily limit', {
        details: { total, today, maxOrderAmount, maxDailyAmount },
      });
      this.deps.log.warn({ code: err.code, details: err.details }, err.message);
    }
    return text;
  }

  /** One delivery attempt, waited for at most `placeWaitMs` or until the turn ends. */
  private async waitForCloud(key: string, signal: AbortSignal): Promise<void> {
    const done = new AbortController();
    const stop = AbortSignal.any([done.signal, signal]);
    const timeout = this.deps.clock
      .sleep(this.deps.placeWaitMs ?? DEFAULT_PLACE_WAIT_MS, stop)
      .catch(() => undefined);
    const attempt = this.deps.outbox.attempt(key).catch((err: unknown): Attempt | undefined => {
      // The reply came but could not be recorded: the file still says pending and the sender resends.
      this.deps.log.error({ code: isGlassesError(err) ? err.code : undefined }, 'order reply not recorded');
      return undefined;
    });
    try {
      await Promise.race([attempt, timeout]);
    } finally {
      done.abort();
    }
  }

  private announcePlaced(key: string, order: Order): void {
    if (this.announced.has(key)) return;
    this.announced.add(key);
    this.deps.onOrder({ orderId: order.orderId, status: order.status, state: 'placed' });
  }

  /** Cloud failures become a short spoken answer; a cancelled turn still ends the turn. */
  private async cloud(work: () => Promise<OrdersReply>): Promise<OrdersReply> {
    try {
      return await work();
    } catch (err) {
      if (!isGlassesError(err) || err.code === 'E_ABORTED') throw err;
      this.deps.log.warn({ code: err.code, details: err.details }, err.message);
      return { text: err.code === 'E_CLOUD_AUTH' ? REFUSED_DEVICE : UNREACHABLE };
    }
  }

  /** An order that failed after the wearer heard it was queued is told at the next chance. */
  private async withFailureNotices(text: string): Promise<string> {
    const failed: OutboxEntry[] = this.deps.outbox.unspokenFailures();
    if (failed.length === 0) return text;
    const notices = failed.map(
      (e) => `Your order of ${e.offer.name} could not be placed: ${e.failure?.reason ?? 'it was refused'}.`,
    );
    for (const e of failed) await this.failureSpoken(e.key);
    return `${notices.join(' ')} ${text}`;
  }

  private async failureSpoken(key: string): Promise<void> {
    try {
      await this.deps.outbox.markFailureSpoken(key);
    } catch (err) {
      // Worst case the wearer hears it once more after a restart.
      this.deps.log.warn(
        { code: isGlassesError(err) ? err.code : undefined },
        'could not record a spoken failure',
      );
    }
  }
}

/** The quantity the wearer said (the grammar gives 1..10); the API takes 1..99. */
function quantityOf(intent: Intent): number {
  const q = intent.slots.quantity;
  return typeof q === 'number' && Number.isInteger(q) && q >= 1 && q <= 99 ? q : 1;
}

/**
 * What the wearer is looking at as search terms: the focused object first, then the rest by score;
 * the text block nearest the centre; the prices read with a currency (the API needs one).
 */
export function productQuery(scene: Scene): ProductQuery {
  const focus = focusObject(scene.objects, scene.width, scene.height);
  const objects =
    focus === undefined ? [] : [focus.focus, ...[...focus.others].sort((a, b) => b.score - a.score)];
  const lines = scene.lines === undefined ? [] : blockNearestCentre(scene.lines, scene.width, scene.height);
  const text = lines
    .map((l) => l.text.trim().slice(0, MAX_TEXT_CHARS))
    .filter((t) => t !== '')
    .slice(0, MAX_TEXT_LINES);
  const prices = (scene.prices ?? []).flatMap((p) =>
    p.currency === null ? [] : [{ amount: p.amount, currency: p.currency }],
  );
  return {
    objects: objects.map((d) => ({ label: d.label, score: Math.min(1, Math.max(0, d.score)) })),
    text,
    ...(prices.length === 0 ? {} : { prices: prices.slice(0, 3) }),
    limit: 3,
  };
}

/** The last four letters or digits, spaced so a speech engine spells them: "Order 7 F 3 A". */
export function shortId(orderId: string): string {
  const tail = orderId
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(-4)
    .toUpperCase();
  return tail.split('').join(' ');
}

function minutes(n: number): string {
  return n === 1 ? '1 minute' : `${n} minutes`;
}
