import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { OrdersClient, parseRetryAfter, type Order } from '../../../firmware-ts/src/cloud/orders-client.js';
import { GlassesError, isGlassesError, type ErrorCode } from '../../../firmware-ts/src/errors.js';
import { SimulatedClock } from '../../../firmware-ts/src/hal/clock.js';

const TOKEN = 'tok-SECRET-123456';
const ORDER: Order = {
  orderId: 'ord_abc123',
  status: 'placed',
  kind: 'product',
  itemId: 'p-1',
  name: 'Water',
  quantity: 2,
  total: { amount: 4, currency: 'CNY' },
  createdAt: '2025-01-01T10:00:00.000Z',
};
const REQUEST = {
  kind: 'product' as const,
  itemId: 'p-1',
  quantity: 2,
  unitPrice: { amount: 2, currency: 'CNY' },
  confirmedAt: '2025-01-01T10:00:00.000Z',
};
const KEY = '0b7c6a52-5f1e-4d8e-9a39-6f0f3c1d2e4f';

interface Call {
  url: string;
  method: string;
  headers: Headers;
  body: string | undefined;
}

function setup(reply: (call: Call, signal: AbortSignal) => Promise<Response> | Response) {
  const calls: Call[] = [];
  const logged: string[] = [];
  const clock = new SimulatedClock();
  const fetchFake = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const call: Call = {
      url: input instanceof Request ? input.url : input.toString(),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : undefined,
    };
    calls.push(call);
    return Promise.resolve(reply(call, init?.signal ?? new AbortController().signal));
  };
  const client = new OrdersClient({
    baseUrl: 'http://127.0.0.1:8787',
    token: TOKEN,
    requestTimeoutMs: 5000,
    clock,
    log: pino({ level: 'trace' }, { write: (s: string) => logged.push(s) }),
    fetch: fetchFake,
  });
  return { client, calls, logged, clock };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const signal = (): AbortSignal => new AbortController().signal;

function expectCode(code: ErrorCode) {
  return (e: unknown): boolean => isGlassesError(e, code);
}

describe('OrdersClient', () => {
  it('sends the bearer token and the idempotency key, and reads a 201 or 200 order', async () => {
    const { client, calls } = setup(() => json(201, ORDER));
    await expect(client.placeOrder(REQUEST, KEY, signal())).resolves.toEqual(ORDER);
    const call = calls[0]!;
    expect(call.url).toBe('http://127.0.0.1:8787/v1/orders');
    expect(call.method).toBe('POST');
    expect(call.headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
    expect(call.headers.get('idempotency-key')).toBe(KEY);
    expect(JSON.parse(call.body!)).toEqual(REQUEST);
  });

  it('keeps a base path and escapes the order id', async () => {
    const calls: string[] = [];
    const client = new OrdersClient({
      baseUrl: 'https://orders.example.invalid/api',
      token: TOKEN,
      requestTimeoutMs: 5000,
      clock: new SimulatedClock(),
      log: pino({ level: 'silent' }),
      fetch: ((input: string | URL) => {
        calls.push(String(input));
        return Promise.resolve(json(200, ORDER));
      }) as typeof fetch,
    });
    await client.getOrder('a/b', signal());
    expect(calls).toEqual(['https://orders.example.invalid/api/v1/orders/a%2Fb']);
  });

  it('refuses plain http to a host that is not loopback', () => {
    expect(
      () =>
        new OrdersClient({
          baseUrl: 'http://orders.example.com',
          token: TOKEN,
          requestTimeoutMs: 5000,
          clock: new SimulatedClock(),
          log: pino({ level: 'silent' }),
        }),
    ).toThrow(expect.objectContaining({ code: 'E_CLOUD_INSECURE' }) as Error);
  });

  it('parses search results, best first', async () => {
    const product = { productId: 'p-1', name: 'Water', price: { amount: 2, currency: 'CNY' }, shop: 'Mart' };
    const { client, calls } = setup(() => json(200, { results: [product] }));
    const results = await client.searchProducts(
      { objects: [{ label: 'bottle', score: 0.8 }], text: [] },
      signal(),
    );
    expect(results).toEqual([product]);
    expect(calls[0]!.url).toBe('http://127.0.0.1:8787/v1/products/search');
  });

  it.each([
    ['a missing field', { results: [{ productId: 'p', name: 'x', shop: 's' }] }],
    [
      'a bad currency',
      { results: [{ productId: 'p', name: 'x', shop: 's', price: { amount: 1, currency: 'yuan' } }] },
    ],
    [
      'a negative price',
      { results: [{ productId: 'p', name: 'x', shop: 's', price: { amount: -1, currency: 'CNY' } }] },
    ],
    ['no results array', { items: [] }],
  ])('a body off the schema (%s) is E_CLOUD_PROTOCOL', async (_name, body) => {
    const { client } = setup(() => json(200, body));
    await expect(client.searchProducts({ objects: [], text: ['x'] }, signal())).rejects.toSatisfy(
      expectCode('E_CLOUD_PROTOCOL'),
    );
  });

  it('an order with an unknown status or a bad date is E_CLOUD_PROTOCOL', async () => {
    for (const bad of [
      { ...ORDER, status: 'lost' },
      { ...ORDER, createdAt: 'yesterday' },
    ]) {
      const { client } = setup(() => json(200, bad));
      await expect(client.getOrder('ord_abc123', signal())).rejects.toSatisfy(expectCode('E_CLOUD_PROTOCOL'));
    }
  });

  it('a 2xx that is not JSON is E_CLOUD_PROTOCOL', async () => {
    const { client } = setup(() => new Response('<html>proxy</html>', { status: 200 }));
    await expect(client.getOrder('x', signal())).rejects.toSatisfy(expectCode('E_CLOUD_PROTOCOL'));
  });

  it('401 and 403 are E_CLOUD_AUTH', async () => {
    for (const status of [401, 403]) {
      const { client } = setup(() => json(status, { error: { code: 'unauthorized', message: 'no' } }));
      await expect(client.getOrder('x', signal())).rejects.toSatisfy(expectCode('E_CLOUD_AUTH'));
    }
  });

  it('other statuses are E_CLOUD_HTTP with the status, the error code and Retry-After', async () => {
    const { client } = setup(() =>
      json(503, { error: { code: 'unavailable', message: 'busy' } }, { 'retry-after': '3' }),
    );
    const err = await client.placeOrder(REQUEST, KEY, signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GlassesError);
    expect((err as GlassesError).code).toBe('E_CLOUD_HTTP');
    expect((err as GlassesError).details).toMatchObject({
      status: 503,
      code: 'unavailable',
      retryAfterMs: 3000,
    });

    const { client: c2 } = setup(() => json(422, { error: { code: 'price_changed', message: 'now 3 CNY' } }));
    const err2 = (await c2.placeOrder(REQUEST, KEY, signal()).catch((e: unknown) => e)) as GlassesError;
    expect(err2.details).toMatchObject({ status: 422, code: 'price_changed' });
    // The cloud's free-text message is not repeated: it could say anything.
    expect(err2.message).not.toContain('now 3 CNY');
  });

  it('a refused connection is E_CLOUD_UNREACHABLE', async () => {
    const { client } = setup(() => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      });
    });
    const err = (await client.getOrder('x', signal()).catch((e: unknown) => e)) as GlassesError;
    expect(err.code).toBe('E_CLOUD_UNREACHABLE');
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('no answer within requestTimeoutMs on the clock is E_CLOUD_TIMEOUT', async () => {
    const { client, clock } = setup(
      (_call, s) =>
        new Promise<Response>((_resolve, reject) => {
          s.addEventListener('abort', () => {
            reject(new DOMException('aborted', 'AbortError'));
          });
        }),
    );
    const p = client.getOrder('x', signal());
    await clock.advance(4999);
    let settled = false;
    void p.catch(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    await clock.advance(1);
    await expect(p).rejects.toSatisfy(expectCode('E_CLOUD_TIMEOUT'));
    expect(clock.pendingSleepers).toBe(0);
  });

  it("the caller's signal cancels with E_ABORTED", async () => {
    const { client, clock } = setup(
      (_call, s) =>
        new Promise<Response>((_resolve, reject) => {
          s.addEventListener('abort', () => {
            reject(new DOMException('aborted', 'AbortError'));
          });
        }),
    );
    const controller = new AbortController();
    const p = client.getOrder('x', controller.signal);
    controller.abort();
    await expect(p).rejects.toSatisfy(expectCode('E_ABORTED'));
    expect(clock.pendingSleepers).toBe(0);
  });

  it('never logs the token or a body', async () => {
    const { client, logged } = setup(() => json(200, ORDER));
    await client.placeOrder(REQUEST, KEY, signal());
    const { client: failing, logged: logged2 } = setup(() =>
      json(500, { error: { code: 'x', message: 'Water' } }),
    );
    await failing.placeOrder(REQUEST, KEY, signal()).catch(() => undefined);
    const all = [...logged, ...logged2].join('\n');
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain('Water');
    expect(all).not.toContain('p-1');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2025-01-01T10:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 09:00:00 GMT', now)).toBe(0);
  });
});
