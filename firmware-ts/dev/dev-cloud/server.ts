/**
 * The development cloud: a local HTTP server that stands in for the cloud the glasses call, the
 * Chat Completions subset (chat.ts) and the orders API (firmware-ts/api/orders.openapi.yaml), with
 * faults injected on purpose (faults.ts). Used in-process by tests and by `glasses run`, and as a
 * process by `glasses dev-cloud`.
 *
 * `GET /dev/orders` lists every order (with the same bearer token). It is for tests and people, not
 * part of the API: the device never calls it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { silentLogger, type Log } from '../../src/log.js';
import { DEFAULT_LIMIT, searchProducts, searchServices } from './catalogue.js';
import { chatRequestSchema, replyChat } from './chat.js';
import { FaultState, type DevCloudFaults, type Surface } from './faults.js';
import { HttpError, pause, readJson, sendError, sendJson } from './http.js';
import { IDEMPOTENCY_KEY, moneySchema, orderRequestSchema, OrderStore, type Order } from './orders.js';

export interface DevCloudOptions {
  /** The bearer token every request must carry (the device token, also its LLM API key). */
  readonly token: string;
  /** Default 127.0.0.1: the device accepts plain http only on loopback. */
  readonly host?: string;
  /** Default 0: any free port (read it back from `url`). */
  readonly port?: number;
  /** JSON file the orders are kept in, loaded at start; undefined keeps them in memory only. */
  readonly dataFile?: string;
  readonly faults?: DevCloudFaults;
  /** One line per request (method, path, status, ms); never bodies or the token. Bound to component dev-cloud. */
  readonly log?: Log;
  /** Wall-clock ms, for createdAt and the status an order has reached. Default Date.now. */
  readonly now?: () => number;
  /** 0..1, for a 503 rate. Default Math.random. */
  readonly random?: () => number;
}

export interface DevCloud {
  /** http://host:port, no trailing slash: the orders API's base URL. */
  readonly url: string;
  /** `${url}/v1`: the base URL an OpenAI client takes. */
  readonly llmBaseUrl: string;
  /** Every order placed, including those loaded from the data file, oldest first. */
  orders(): Order[];
  /** Replaces the faults in force (and resets their "next N" counters). */
  setFaults(faults: DevCloudFaults): void;
  faults(): DevCloudFaults;
  /** Stops listening, drops open connections and waits for the last order to reach the file. */
  close(): Promise<void>;
}

/** Chat requests carry a picture and audio in base64; everything else is a few hundred bytes. */
const CHAT_MAX_BYTES = 16 * 1024 * 1024;
const ORDERS_MAX_BYTES = 64 * 1024;

const limit = z.number().int().min(1).max(10).default(DEFAULT_LIMIT);

const productQuerySchema = z.object({
  objects: z.array(z.object({ label: z.string(), score: z.number().min(0).max(1) })),
  text: z.array(z.string()),
  prices: z.array(moneySchema).optional(),
  limit,
});

const serviceQuerySchema = z.object({ query: z.string(), limit });

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  /** Path parameters, by position. */
  params: string[];
}

interface Route {
  method: string;
  path: RegExp;
  /** Which faults apply; undefined for the dev-only routes. */
  surface: Surface | undefined;
  run(x: Exchange): Promise<void>;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * The path of a request target, or undefined when it is not a URL at all (`GET http://[`): Node's
 * parser passes such targets on, and `new URL` throws on them.
 */
function pathOf(target: string | undefined): string | undefined {
  try {
    return new URL(target ?? '/', 'http://dev-cloud').pathname;
  } catch {
    return undefined;
  }
}

/** A path parameter, percent-decoded; a broken escape (`%E0%A4%A`) is the client's error. */
function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'invalid_path', 'the path holds a malformed percent-escape');
  }
}

export async function createDevCloud(options: DevCloudOptions): Promise<DevCloud> {
  if (options.token.trim() === '') throw new Error('createDevCloud: the token is empty');
  const base = options.log ?? silentLogger();
  // pino writes a key bound twice twice: a caller that already named the component keeps its binding.
  const log = base.bindings().component === 'dev-cloud' ? base : base.child({ component: 'dev-cloud' });
  const now = options.now ?? Date.now;
  const faults = new FaultState(options.faults ?? {}, options.random ?? Math.random);
  const store = await OrderStore.open(options.dataFile, now);
  // Compared as digests so the comparison takes the same time whatever the length of the guess.
  const expected = sha256(options.token.trim());

  const authorized = (req: IncomingMessage): boolean => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return m?.[1] !== undefined && timingSafeEqual(sha256(m[1]), expected);
  };

  const routes: Route[] = [
    {
      method: 'POST',
      path: /^\/v1\/chat\/completions$/,
      surface: 'chat',
      run: async ({ req, res, signal }) => {
        const request = await readJson(req, chatRequestSchema, CHAT_MAX_BYTES);
        await replyChat(res, { request, faults: faults.chat(), nowMs: now(), signal });
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/products\/search$/,
      surface: 'orders',
      run: async ({ req, res }) => {
        const query = await readJson(req, productQuerySchema, ORDERS_MAX_BYTES);
        sendJson(res, 200, { results: searchProducts(query) });
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/services\/search$/,
      surface: 'orders',
      run: async ({ req, res }) => {
        const query = await readJson(req, serviceQuerySchema, ORDERS_MAX_BYTES);
        sendJson(res, 200, { results: searchServices(query) });
      },
    },
    { method: 'POST', path: /^\/v1\/orders$/, surface: 'orders', run: placeOrder },
    {
      method: 'GET',
      path: /^\/v1\/orders\/([^/]+)$/,
      surface: 'orders',
      run: ({ res, params }) => {
        const id = params[0] ?? '';
        const order = store.get(id);
        if (order === undefined) throw new HttpError(404, 'order_not_found', `no order ${id}`);
        sendJson(res, 200, order);
        return Promise.resolve();
      },
    },
    {
      method: 'GET',
      path: /^\/dev\/orders$/,
      surface: undefined,
      run: ({ res }) => {
        sendJson(res, 200, { orders: store.list() });
        return Promise.resolve();
      },
    },
  ];

  async function placeOrder({ req, res }: Exchange): Promise<void> {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key === '')
      throw new HttpError(400, 'missing_idempotency_key', 'the Idempotency-Key header is required');
    if (!IDEMPOTENCY_KEY.pattern.test(key))
      throw new HttpError(400, 'invalid_idempotency_key', `Idempotency-Key must be ${IDEMPOTENCY_KEY.rule}`);
    const request = await readJson(req, orderRequestSchema, ORDERS_MAX_BYTES);
    const placed = await store.place(key, request);
    switch (placed.result) {
      case 'placed':
        if (faults.takeDrop()) {
          // The order is on disk; only the reply is lost, as when a connection drops after commit.
          log.info({ fault: 'dropResponse', orderId: placed.order.orderId }, 'order placed, reply dropped');
          res.destroy();
          return;
        }
        sendJson(res, 201, placed.order);
        return;
      case 'replayed':
        sendJson(res, 200, placed.order);
        return;
      case 'conflict':
        throw new HttpError(
          409,
          'idempotency_conflict',
          `this Idempotency-Key placed order ${placed.orderId} with a different body`,
        );
      case 'not_found':
        throw new HttpError(404, 'item_not_found', `no ${request.kind} ${request.itemId}`);
      case 'price_changed':
        throw new HttpError(
          422,
          'price_changed',
          `the price of ${request.itemId} is now ${placed.price.amount} ${placed.price.currency}, not ` +
            `${request.unitPrice.amount} ${request.unitPrice.currency}`,
        );
    }
  }

  async function handle(x: Exchange): Promise<void> {
    const { req, signal } = x;
    const path = pathOf(req.url);
    if (path === undefined) {
      // No route can be told from it. Every route wants the token, so a caller without it learns no more.
      if (!authorized(req)) throw unauthorized('missing or wrong bearer token');
      throw new HttpError(400, 'invalid_url', 'the request target is not a URL path');
    }
    const onPath = routes.filter((r) => r.path.test(path));
    const route = onPath.find((r) => r.method === req.method);
    if (route === undefined) {
      if (onPath.length === 0) throw new HttpError(404, 'not_found', `no route ${path}`);
      throw new HttpError(
        405,
        'method_not_allowed',
        `${req.method ?? ''} ${path}: use ${onPath[0]?.method ?? ''}`,
        {
          allow: onPath.map((r) => r.method).join(', '),
        },
      );
    }
    const surface = route.surface;
    if (surface !== undefined) {
      await pause(faults.latencyMs(surface), signal);
      if (signal.aborted) return;
      if (faults.unauthorized(surface)) throw unauthorized('fault: unauthorized');
    }
    if (!authorized(req)) throw unauthorized('missing or wrong bearer token');
    const failure = surface === undefined ? undefined : faults.takeFailure(surface);
    if (failure !== undefined)
      throw new HttpError(503, 'unavailable', 'fault: service unavailable', {
        'retry-after': String(failure.retryAfterS),
      });
    x.params = (route.path.exec(path)?.slice(1) ?? []).map(decodeParam);
    await route.run(x);
  }

  const server = createServer((req, res) => {
    const started = performance.now();
    const controller = new AbortController();
    const path = (req.url ?? '/').split('?')[0];
    res.on('close', () => {
      controller.abort();
      const entry = {
        method: req.method,
        path,
        status: res.headersSent ? res.statusCode : null,
        ms: Math.round(performance.now() - started),
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      log.info(entry, 'request');
    });
    handle({ req, res, signal: controller.signal, params: [] }).catch((err: unknown) => {
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) {
        sendError(res, err);
        return;
      }
      log.error({ err, method: req.method, path }, 'request failed');
      sendError(res, new HttpError(500, 'internal', 'the development cloud failed; see its log'));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  return {
    url,
    llmBaseUrl: `${url}/v1`,
    orders: () => store.list(),
    setFaults: (f) => {
      faults.set(f);
    },
    faults: () => faults.get(),
    close: async () => {
      const closed = new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
      // Keep-alive and streaming connections would hold close() open until their clients leave.
      server.closeAllConnections();
      await closed;
      await store.flushed();
    },
  };
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, 'unauthorized', message, { 'www-authenticate': 'Bearer' });
}
