/**
 * The orders API (firmware-ts/api/orders.openapi.yaml) over Node's fetch: product and service search,
 * placing an order under an idempotency key, and reading an order back. Every response is checked
 * against the API's shapes; a body off the schema is E_CLOUD_PROTOCOL, never trusted half-way.
 * Bodies and the token are never logged: bodies carry what the wearer saw, the token is a secret.
 */
import { z } from 'zod';
import { GlassesError, isGlassesError, messageOf } from '../errors.js';
import type { Clock } from '../hal/clock.js';
import type { Log } from '../log.js';
import { checkCloudUrl } from './security.js';

const money = z.object({
  amount: z.number().min(0),
  currency: z.string().regex(/^[A-Z]{3}$/),
});
const dateTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date-time');

const product = z.object({
  productId: z.string(),
  name: z.string(),
  price: money,
  shop: z.string(),
});
const service = z.object({
  serviceId: z.string(),
  name: z.string(),
  price: money,
  provider: z.string(),
  etaMinutes: z.number().int().min(0).optional(),
});
export const orderRequestSchema = z.object({
  kind: z.enum(['product', 'service']),
  itemId: z.string(),
  quantity: z.number().int().min(1).max(99),
  unitPrice: money,
  confirmedAt: dateTime,
});
export const orderSchema = z.object({
  orderId: z.string(),
  status: z.enum(['placed', 'preparing', 'shipped', 'delivered', 'cancelled']),
  kind: z.enum(['product', 'service']),
  itemId: z.string(),
  name: z.string(),
  quantity: z.number().int(),
  total: money,
  createdAt: dateTime,
  etaMinutes: z.number().int().min(0).optional(),
});
const productResults = z.object({ results: z.array(product) });
const serviceResults = z.object({ results: z.array(service) });
const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export type Product = z.infer<typeof product>;
export type Service = z.infer<typeof service>;
export type OrderRequest = z.infer<typeof orderRequestSchema>;
export type Order = z.infer<typeof orderSchema>;
export type OrderStatus = Order['status'];

export interface ProductQuery {
  objects: { label: string; score: number }[];
  text: string[];
  prices?: { amount: number; currency: string }[];
  limit?: number;
}

export interface ServiceQuery {
  query: string;
  limit?: number;
}

/** What the orders service and the outbox need of the cloud; tests pass a fake. */
export interface OrdersApi {
  searchProducts(query: ProductQuery, signal: AbortSignal): Promise<Product[]>;
  searchServices(query: ServiceQuery, signal: AbortSignal): Promise<Service[]>;
  /** 201 (placed) and 200 (already placed with this key) both give the order. */
  placeOrder(request: OrderRequest, idempotencyKey: string, signal: AbortSignal): Promise<Order>;
  getOrder(orderId: string, signal: AbortSignal): Promise<Order>;
}

export interface OrdersClientDeps {
  /** Checked by `checkCloudUrl`: https, or http on loopback only. */
  baseUrl: string;
  /** Sent as the bearer token; never logged. */
  token: string;
  /** Per request, from sending to the whole body read (`cloud.requestTimeoutMs`). */
  requestTimeoutMs: number;
  clock: Clock;
  log: Log;
  /** Injected by tests; Node's global fetch otherwise. */
  fetch?: typeof fetch;
}

const DEADLINE = Symbol('deadline');
const CANCELLED = Symbol('cancelled');

export class OrdersClient implements OrdersApi {
  private readonly base: URL;
  private readonly fetch: typeof fetch;

  constructor(private readonly deps: OrdersClientDeps) {
    const url = checkCloudUrl(deps.baseUrl, 'cloud.ordersBaseUrl');
    // A base with a path ("https://host/api") must end in '/' or URL resolution drops its last segment.
    this.base = url.href.endsWith('/') ? url : new URL(`${url.href}/`);
    this.fetch = deps.fetch ?? globalThis.fetch;
  }

  async searchProducts(query: ProductQuery, signal: AbortSignal): Promise<Product[]> {
    const body = await this.request('searchProducts', 'POST', 'v1/products/search', query, signal);
    return parse(productResults, body, 'searchProducts').results;
  }

  async searchServices(query: ServiceQuery, signal: AbortSignal): Promise<Service[]> {
    const body = await this.request('searchServices', 'POST', 'v1/services/search', query, signal);
    return parse(serviceResults, body, 'searchServices').results;
  }

  async placeOrder(request: OrderRequest, idempotencyKey: string, signal: AbortSignal): Promise<Order> {
    const body = await this.request('placeOrder', 'POST', 'v1/orders', request, signal, {
      'idempotency-key': idempotencyKey,
    });
    return parse(orderSchema, body, 'placeOrder');
  }

  async getOrder(orderId: string, signal: AbortSignal): Promise<Order> {
    const path = `v1/orders/${encodeURIComponent(orderId)}`;
    return parse(orderSchema, await this.request('getOrder', 'GET', path, undefined, signal), 'getOrder');
  }

  /** One request under the caller's signal and the per-request deadline; the parsed JSON body of a 2xx. */
  private async request(
    op: string,
    method: 'GET' | 'POST',
    path: string,
    payload: unknown,
    signal: AbortSignal,
    headers: Record<string, string> = {},
  ): Promise<unknown> {
    if (signal.aborted) throw new GlassesError('E_ABORTED', `orders API ${op}: cancelled`);
    const t0 = this.deps.clock.now();
    // One controller for fetch; its reason says who stopped it (the deadline or the caller).
    const controller = new AbortController();
    const deadline = new AbortController();
    // The deadline runs on the injected clock like every other timeout, so tests can simulate it.
    this.deps.clock.sleep(this.deps.requestTimeoutMs, deadline.signal).then(
      () => {
        controller.abort(DEADLINE);
      },
      () => undefined,
    );
    const onAbort = (): void => {
      controller.abort(CANCELLED);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await this.fetch(new URL(path, this.base), {
        method,
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${this.deps.token}`,
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
        signal: controller.signal,
        redirect: 'error',
      });
      const text = await res.text();
      const ms = Math.round(this.deps.clock.now() - t0);
      this.deps.log.debug({ op, status: res.status, ms }, 'orders API answered');
      if (!res.ok) throw httpError(op, res, text);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new GlassesError('E_CLOUD_PROTOCOL', `orders API ${op}: the response is not JSON`, {
          details: { op, status: res.status },
        });
      }
    } catch (err) {
      if (isGlassesError(err)) throw err;
      const reason: unknown = controller.signal.reason;
      if (reason === CANCELLED)
        throw new GlassesError('E_ABORTED', `orders API ${op}: cancelled`, { cause: err });
      if (reason === DEADLINE) {
        throw new GlassesError(
          'E_CLOUD_TIMEOUT',
          `orders API ${op}: no answer within ${this.deps.requestTimeoutMs} ms (cloud.requestTimeoutMs)`,
          { details: { op, timeoutMs: this.deps.requestTimeoutMs }, cause: err },
        );
      }
      throw new GlassesError(
        'E_CLOUD_UNREACHABLE',
        `orders API ${op}: cannot reach ${this.base.host} (${causeOf(err)})`,
        { details: { op, host: this.base.host }, cause: err },
      );
    } finally {
      signal.removeEventListener('abort', onAbort);
      deadline.abort();
    }
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown, op: string): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  // The path of the first bad field, not its value: values may be what the wearer saw.
  const where = result.error.issues[0]?.path.map(String).join('.') ?? '';
  throw new GlassesError('E_CLOUD_PROTOCOL', `orders API ${op}: response off the API schema at "${where}"`, {
    details: { op, field: where, issues: result.error.issues.length },
  });
}

function httpError(op: string, res: Response, text: string): GlassesError {
  let code: string | undefined;
  try {
    const parsed = errorBody.safeParse(JSON.parse(text));
    // Only the machine code (e.g. price_changed), trimmed: the message is free text from the cloud.
    if (parsed.success) code = parsed.data.error.code.slice(0, 64);
  } catch {
    code = undefined;
  }
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
  const details = { op, status: res.status, ...(code === undefined ? {} : { code }), retryAfterMs };
  if (res.status === 401 || res.status === 403) {
    return new GlassesError(
      'E_CLOUD_AUTH',
      `orders API ${op}: the device token was refused (HTTP ${res.status})`,
      {
        details,
      },
    );
  }
  return new GlassesError(
    'E_CLOUD_HTTP',
    `orders API ${op}: HTTP ${res.status}${code === undefined ? '' : ` ${code}`}`,
    {
      details,
    },
  );
}

/** `Retry-After` as delta-seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** undici's "fetch failed" hides the reason in `cause` (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET...). */
function causeOf(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  if (typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string') {
    return cause.code;
  }
  return messageOf(cause ?? err);
}

/** The status and Retry-After of an E_CLOUD_HTTP error, for the outbox's retry decision. */
export function httpFacts(err: GlassesError): { status?: number; retryAfterMs?: number; code?: string } {
  const { status, retryAfterMs, code } = err.details;
  return {
    ...(typeof status === 'number' ? { status } : {}),
    ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}),
    ...(typeof code === 'string' ? { code } : {}),
  };
}
