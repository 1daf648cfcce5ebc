/**
 * The development cloud through real HTTP: the `openai` client as the device uses it, node's fetch
 * with the server-sent events parsed here (to see each event and when it came), and
 * `glasses dev-cloud` as a child process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeWav } from '../../../firmware-ts/src/audio/wav.js';
import { createDevCloud, type DevCloud } from '../../../firmware-ts/dev/dev-cloud/server.js';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';

const TOKEN = 'test-token-1234567890';
const AUTH = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const CLI = join(PACKAGE_ROOT, 'dist', 'firmware-ts', 'src', 'cli.js');

const SCENE = 'Objects: cup (in focus, 82%), laptop (55%).\nText read: "NESCAFE"\nPrices seen: 12 yuan 50.';
const chatBody = (stream: boolean, question = 'what is the capital of France'): string =>
  JSON.stringify({
    model: 'qwen-plus',
    stream,
    messages: [
      { role: 'system', content: 'You are the voice of smart glasses.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: SCENE },
          { type: 'text', text: question },
          { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ', detail: 'low' } },
        ],
      },
    ],
  });

interface Event {
  data: string;
  atMs: number;
}

/** Reads `data:` lines as they arrive; a connection dropped mid-stream ends the list with `error`. */
async function readEvents(res: Response): Promise<{ events: Event[]; error?: unknown }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const started = performance.now();
  const events: Event[] = [];
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { events };
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        for (const line of buffer.slice(0, end).split('\n'))
          if (line.startsWith('data: '))
            events.push({ data: line.slice(6), atMs: performance.now() - started });
        buffer = buffer.slice(end + 2);
      }
    }
  } catch (error) {
    return { events, error };
  }
}

interface Chunk {
  object: string;
  choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[];
}

const contentOf = (events: Event[]): string =>
  events
    .filter((e) => e.data !== '[DONE]')
    .map((e) => (JSON.parse(e.data) as Chunk).choices[0]?.delta.content ?? '')
    .join('');

const tmp = (): string => mkdtempSync(join(tmpdir(), 'dev-cloud-it-'));

function orderBody(over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    kind: 'product',
    itemId: 'p-cola',
    quantity: 2,
    unitPrice: { amount: 3.5, currency: 'CNY' },
    confirmedAt: '2026-01-01T08:00:00Z',
    ...over,
  });
}

function placeOrder(cloud: DevCloud, key: string, body = orderBody()): Promise<Response> {
  return fetch(`${cloud.url}/v1/orders`, {
    method: 'POST',
    headers: { ...AUTH, 'idempotency-key': key },
    body,
  });
}

interface Order {
  orderId: string;
  status: string;
  total: { amount: number; currency: string };
}

describe('dev cloud over HTTP', () => {
  let cloud: DevCloud;
  let dataFile: string;
  let now: number;

  beforeEach(async () => {
    dataFile = join(tmp(), 'orders.json');
    now = Date.parse('2026-01-01T08:00:01Z');
    cloud = await createDevCloud({ token: TOKEN, dataFile, now: () => now });
  });

  afterEach(async () => {
    await cloud.close();
  });

  it('streams a chat answer in several chunks, word by word, mentioning the scene', async () => {
    const res = await fetch(`${cloud.llmBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: AUTH,
      body: chatBody(true),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const { events, error } = await readEvents(res);
    expect(error).toBeUndefined();
    expect(events.at(-1)?.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as Chunk);
    expect(chunks.length).toBeGreaterThan(10);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    const answer = contentOf(events);
    expect(answer).toMatch(/^Development cloud: you asked "what is the capital of France", with a picture\./);
    expect(answer).toContain('a cup and a laptop');
    expect(answer).toContain('NESCAFE');
    expect(answer).toContain('12 yuan 50');
    expect(answer).toMatch(/Paris\.$/);
  });

  it('answers without streaming as one chat.completion', async () => {
    const res = await fetch(`${cloud.llmBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: AUTH,
      body: chatBody(false),
    });
    const body = (await res.json()) as {
      object: string;
      choices: { message: { role: string; content: string }; finish_reason: string }[];
    };
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0]!.message.role).toBe('assistant');
    expect(body.choices[0]!.message.content).toMatch(/^Development cloud: .*Paris\.$/);
    expect(body.choices[0]!.finish_reason).toBe('stop');
  });

  it('refuses a missing or wrong token with 401 and the API error body', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${TOKEN}`]) {
      const res = await fetch(`${cloud.url}/v1/orders/anything`, {
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.json()).toEqual({
        error: { code: 'unauthorized', message: expect.any(String) as string },
      });
    }
  });

  it('refuses a bad body with 400 naming the field', async () => {
    const bad = await fetch(`${cloud.llmBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: [{ type: 'video' }] }] }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
      /^messages\[0\]\.content/,
    );
    const order = await placeOrder(cloud, 'key-bad-body-000000', orderBody({ quantity: 0 }));
    expect(order.status).toBe(400);
    expect(await order.json()).toEqual({
      error: { code: 'invalid_request', message: expect.stringMatching(/^quantity: /) as string },
    });
    const notJson = await fetch(`${cloud.url}/v1/products/search`, {
      method: 'POST',
      headers: AUTH,
      body: '{',
    });
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
  });

  it('searches products and services as the API says', async () => {
    const products = await fetch(`${cloud.url}/v1/products/search`, {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({ objects: [{ label: 'bottle', score: 0.7 }], text: ['Coca-Cola'], limit: 2 }),
    });
    const { results } = (await products.json()) as { results: { productId: string }[] };
    expect(results.map((r) => r.productId)).toEqual(['p-cola', 'p-water-nongfu']);
    const services = await fetch(`${cloud.url}/v1/services/search`, {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({ query: 'taxi' }),
    });
    expect(await services.json()).toEqual({
      results: [
        {
          serviceId: 's-taxi',
          name: 'Taxi, standard car',
          price: { amount: 25, currency: 'CNY' },
          provider: 'City Cabs',
          etaMinutes: 6,
        },
      ],
    });
  });

  it('places one order per Idempotency-Key: 201, then 200 with the same order, 409 for another body', async () => {
    const key = '6f1c2a9e-2b1d-4f7e-9d55-0c3a1e7b9f10';
    const first = await placeOrder(cloud, key);
    expect(first.status).toBe(201);
    const order = (await first.json()) as Order;
    expect(order).toMatchObject({ status: 'placed', total: { amount: 7, currency: 'CNY' } });
    const again = await placeOrder(cloud, key);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(order);
    const other = await placeOrder(cloud, key, orderBody({ quantity: 3 }));
    expect(other.status).toBe(409);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('idempotency_conflict');
    expect(cloud.orders()).toEqual([order]);

    const price = await placeOrder(
      cloud,
      'key-price-000000000',
      orderBody({ unitPrice: { amount: 3, currency: 'CNY' } }),
    );
    expect(price.status).toBe(422);
    expect(((await price.json()) as { error: { code: string; message: string } }).error).toEqual({
      code: 'price_changed',
      message: expect.stringContaining('now 3.5 CNY') as string,
    });
    expect((await placeOrder(cloud, 'key-gone-0000000000', orderBody({ itemId: 'p-none' }))).status).toBe(
      404,
    );
    const noKey = await fetch(`${cloud.url}/v1/orders`, { method: 'POST', headers: AUTH, body: orderBody() });
    expect(noKey.status).toBe(400);
    expect((await placeOrder(cloud, 'short')).status).toBe(400);
    expect(cloud.orders()).toHaveLength(1);

    const got = await fetch(`${cloud.url}/v1/orders/${order.orderId}`, { headers: AUTH });
    expect(await got.json()).toEqual(order);
    expect((await fetch(`${cloud.url}/v1/orders/ord_none`, { headers: AUTH })).status).toBe(404);
    const dev = await fetch(`${cloud.url}/dev/orders`, { headers: AUTH });
    expect(await dev.json()).toEqual({ orders: [order] });
  });

  it('keeps every order and key across a restart on the same data file, with the status moving on', async () => {
    const a = (await (await placeOrder(cloud, 'restart-key-a-00000')).json()) as Order;
    const b = (await (
      await placeOrder(
        cloud,
        'restart-key-b-00000',
        orderBody({ itemId: 'p-banana', unitPrice: { amount: 7.5, currency: 'CNY' } }),
      )
    ).json()) as Order;
    await cloud.close();
    now += 2 * 60_000;
    cloud = await createDevCloud({ token: TOKEN, dataFile, now: () => now });
    expect(cloud.orders().map((o) => o.orderId)).toEqual([a.orderId, b.orderId]);
    const retried = await placeOrder(cloud, 'restart-key-a-00000');
    expect(retried.status).toBe(200);
    expect(await retried.json()).toEqual({ ...a, status: 'preparing', etaMinutes: 178 });
    now += 3 * 60 * 60_000;
    const got = (await (
      await fetch(`${cloud.url}/v1/orders/${b.orderId}`, { headers: AUTH })
    ).json()) as Order;
    expect(got.status).toBe('delivered');
    expect(cloud.orders()).toHaveLength(2);
  });

  it('drops the reply to a new order but keeps the order; the retry with the same key gets it', async () => {
    cloud.setFaults({ orders: { dropResponse: 1 } });
    const key = 'c0ffee00-0000-4000-8000-00000000d20b';
    await expect(placeOrder(cloud, key)).rejects.toThrow();
    expect(cloud.orders()).toHaveLength(1);
    const retry = await placeOrder(cloud, key);
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as Order).orderId).toBe(cloud.orders()[0]!.orderId);
    expect(cloud.orders()).toHaveLength(1);
    expect(JSON.parse(readFileSync(dataFile, 'utf8'))).toMatchObject({ orders: [{ idempotencyKey: key }] });
  });

  it('fails the next N requests of a surface with 503 and Retry-After', async () => {
    cloud.setFaults({ orders: { status5xx: 2, retryAfterS: 0 } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${cloud.url}/v1/services/search`, {
        method: 'POST',
        headers: AUTH,
        body: '{"query":"tea"}',
      });
      statuses.push(res.status);
      if (res.status === 503) expect(res.headers.get('retry-after')).toBe('0');
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([503, 503, 200]);
    const chat = await fetch(`${cloud.llmBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: AUTH,
      body: chatBody(false),
    });
    expect(chat.status).toBe(200);
  });

  it('refuses every request of a surface with 401 when told to, even with the right token', async () => {
    cloud.setFaults({ chat: { unauthorized: true } });
    expect(
      (
        await fetch(`${cloud.llmBaseUrl}/chat/completions`, {
          method: 'POST',
          headers: AUTH,
          body: chatBody(true),
        })
      ).status,
    ).toBe(401);
    expect((await fetch(`${cloud.url}/dev/orders`, { headers: AUTH })).status).toBe(200);
  });

  it('waits latencyMs before the first byte, on its surface only', async () => {
    cloud.setFaults({ chat: { latencyMs: 300 } });
    let t = performance.now();
    const res = await fetch(`${cloud.llmBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: AUTH,
      body: chatBody(true),
    });
    expect(performance.now() - t).toBeGreaterThanOrEqual(290);
    await res.arrayBuffer();
    t = performance.now();
    await (await fetch(`${cloud.url}/v1/orders/x`, { headers: AUTH })).arrayBuffer();
    expect(performance.now() - t).toBeLessThan(250);
  });

  it('drips the stream dripMs per chunk, so the first words arrive well before the last', async () => {
    cloud.setFaults({ chat: { dripMs: 20 } });
    const res = await fetch(`${cloud.llmBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: AUTH,
      body: chatBody(true, 'hello'),
    });
    const { events } = await readEvents(res);
    const content = events.filter((e) => e.data !== '[DONE]' && contentOf([e]) !== '');
    expect(content.length).toBeGreaterThan(10);
    expect(content.at(-1)!.atMs - content[0]!.atMs).toBeGreaterThanOrEqual(20 * (content.length - 1) * 0.8);
  });

  it('resets the connection mid-stream after the first chunk', async () => {
    cloud.setFaults({ chat: { resetMidStream: true } });
    const res = await fetch(`${cloud.llmBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: AUTH,
      body: chatBody(true),
    });
    expect(res.status).toBe(200);
    const { events, error } = await readEvents(res);
    expect(error).toBeDefined();
    expect(contentOf(events)).toBe('Development ');
    // Without streaming: half a JSON body, then the reset.
    const whole = await fetch(`${cloud.llmBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: AUTH,
      body: chatBody(false),
    });
    await expect(whole.json()).rejects.toThrow();
  });

  it('sends one data line that is not JSON mid-stream, then carries on', async () => {
    cloud.setFaults({ chat: { malformedEvents: true } });
    const res = await fetch(`${cloud.llmBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: AUTH,
      body: chatBody(true),
    });
    const { events } = await readEvents(res);
    const broken = events.filter((e) => {
      try {
        JSON.parse(e.data);
        return false;
      } catch {
        return e.data !== '[DONE]';
      }
    });
    expect(broken).toHaveLength(1);
    expect(events.indexOf(broken[0]!)).toBe(2);
    expect(events.at(-1)?.data).toBe('[DONE]');
  });
});

describe('dev cloud through the openai client', () => {
  let cloud: DevCloud;
  let client: OpenAI;

  beforeEach(async () => {
    cloud = await createDevCloud({ token: TOKEN });
    client = new OpenAI({ baseURL: cloud.llmBaseUrl, apiKey: TOKEN, maxRetries: 0, logLevel: 'off' });
  });

  afterEach(async () => {
    await cloud.close();
  });

  const wav = encodeWav(new Int16Array(1600), 16_000, 1).toString('base64');
  const ask = (): Promise<AsyncIterable<OpenAI.ChatCompletionChunk>> =>
    client.chat.completions.create({
      model: 'qwen-plus',
      stream: true,
      messages: [
        { role: 'system', content: 'You are the voice of smart glasses.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: SCENE },
            { type: 'text', text: '(On-device transcript, possibly inaccurate:) what is this' },
            { type: 'input_audio', input_audio: { data: wav, format: 'wav' } },
          ],
        },
      ],
    });

  async function collect(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<string[]> {
    const pieces: string[] = [];
    for await (const chunk of stream) pieces.push(chunk.choices[0]?.delta.content ?? '');
    return pieces;
  }

  it('streams an answer that says the question came as audio and names the scene', async () => {
    const pieces = await collect(await ask());
    expect(pieces.filter((p) => p !== '').length).toBeGreaterThan(10);
    const answer = pieces.join('');
    expect(answer).toMatch(
      /^Development cloud: I received your question as audio; the device heard "what is this"\./,
    );
    expect(answer).toContain('You are looking at a cup and a laptop');
  });

  it('gives the client errors it understands: 401, and 503s it retries after Retry-After', async () => {
    const stranger = new OpenAI({
      baseURL: cloud.llmBaseUrl,
      apiKey: 'wrong',
      maxRetries: 0,
      logLevel: 'off',
    });
    await expect(
      stranger.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    cloud.setFaults({ chat: { status5xx: 2, retryAfterS: 0 } });
    await expect(
      client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 503 });
    const patient = new OpenAI({ baseURL: cloud.llmBaseUrl, apiKey: TOKEN, maxRetries: 2, logLevel: 'off' });
    const done = await patient.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(done.choices[0]?.message.content).toBe(
      'Development cloud: you asked "hi". Hello, I can hear you.',
    );
  });

  it('breaks the stream for the client on a reset or a malformed event', async () => {
    cloud.setFaults({ chat: { resetMidStream: 2 } });
    await expect(collect(await ask())).rejects.toThrow();
    cloud.setFaults({ chat: { malformedEvents: true } });
    await expect(collect(await ask())).rejects.toThrow();
  });
});

/** One request written as is on a socket, for request lines fetch would never send; the status back. */
function rawRequest(url: string, head: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`${head}\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
    });
    let reply = '';
    socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? NaN));
    });
  });
}

describe('dev cloud: requests the device never sends', () => {
  let cloud: DevCloud;
  let logged: { level: number; msg: string; err?: { stack?: string } }[];

  beforeEach(async () => {
    logged = [];
    const log = pino(
      { level: 'debug' },
      { write: (l: string) => logged.push(JSON.parse(l) as (typeof logged)[0]) },
    );
    cloud = await createDevCloud({ token: TOKEN, log });
  });

  afterEach(async () => {
    await cloud.close();
  });

  const errorsLogged = (): unknown[] => logged.filter((l) => l.level >= 50 || l.err?.stack !== undefined);

  it('answers a malformed percent-escape in the path 400, once the token is checked, logging no error', async () => {
    const url = `${cloud.url}/v1/orders/%E0%A4%A`;
    expect((await fetch(url)).status).toBe(401);
    const res = await fetch(url, { headers: AUTH });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: 'invalid_path', message: 'the path holds a malformed percent-escape' },
    });
    expect(errorsLogged()).toEqual([]);
  });

  it('answers a request line whose target is not a URL 400 with the token, 401 without, logging no error', async () => {
    expect(await rawRequest(cloud.url, 'GET http://[ HTTP/1.1')).toBe(401);
    expect(await rawRequest(cloud.url, `GET http://[ HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}`)).toBe(400);
    expect(errorsLogged()).toEqual([]);
  });

  it.each(['key with spaces 0000', 'key/with/slashes/000', 'key;with;semicolons', 'key\twith\ttabs\t00000'])(
    'refuses the Idempotency-Key %j (the device sends UUIDs) and places nothing',
    async (key) => {
      const res = await placeOrder(cloud, key);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_idempotency_key');
      expect(cloud.orders()).toEqual([]);
    },
  );

  it('refuses a price with more than two decimals, naming the field, and takes two', async () => {
    const res = await placeOrder(
      cloud,
      '6f1c2a9e-2b1d-4f7e-9d55-0c3a1e7b9f11',
      orderBody({ unitPrice: { amount: 3.501, currency: 'CNY' } }),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: 'invalid_request', message: expect.stringMatching(/^unitPrice\.amount: /) as string },
    });
    expect(cloud.orders()).toEqual([]);
    expect((await placeOrder(cloud, '6f1c2a9e-2b1d-4f7e-9d55-0c3a1e7b9f12')).status).toBe(201);
  });

  it('names its component once in each log line, whether or not the caller bound it already', async () => {
    const lines: string[] = [];
    const root = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    for (const log of [root, root.child({ component: 'dev-cloud' })]) {
      const other = await createDevCloud({ token: TOKEN, log });
      await fetch(`${other.url}/dev/orders`, { headers: AUTH });
      await other.close();
    }
    const requests = lines.filter((l) => l.includes('"msg":"request"'));
    expect(requests).toHaveLength(2);
    for (const line of requests) expect(line.match(/"component"/g)).toEqual(['"component"']);
  });

  it('makes order ids of 16 random hex digits: no position is fixed (a UUIDv4 fixes the 13th to 4)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 48; i++) {
      const res = await placeOrder(cloud, `6f1c2a9e-2b1d-4f7e-9d55-${String(i).padStart(12, '0')}`);
      ids.push(((await res.json()) as Order).orderId);
    }
    for (const id of ids) expect(id).toMatch(/^ord_[0-9a-f]{16}$/);
    const fixed = [...Array(16).keys()].filter((i) => new Set(ids.map((id) => id[4 + i])).size === 1);
    expect(fixed).toEqual([]);
  });
});

describe('glasses dev-cloud', () => {
  it('prints its URL, answers with the token it wrote 0600, logs requests without secrets, stops on SIGTERM', async () => {
    const dir = tmp();
    const tokenFile = join(dir, 'token');
    const data = join(dir, 'orders.json');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'dev-cloud',
        '--port',
        '0',
        '--data',
        data,
        '--token-file',
        tokenFile,
        '--fail-5xx',
        '1',
        '--fault-scope',
        'orders',
      ],
      { env: { ...process.env, GLASSES_LOG__FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', () => {
          reject(new Error(`exited before listening: ${stderr}`));
        });
      });
      const printed = JSON.parse(line) as { url: string; tokenFile: string; data: string };
      expect(printed).toEqual({
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) as string,
        tokenFile,
        data,
      });
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const token = readFileSync(tokenFile, 'utf8').trim();
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

      const chat = await fetch(`${printed.url}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: chatBody(true),
      });
      expect(contentOf((await readEvents(chat)).events)).toMatch(/^Development cloud: .*Paris\.$/);
      const orders = [1, 2].map(() => fetch(`${printed.url}/v1/orders/none`, { headers }));
      expect((await Promise.all(orders)).map((r) => r.status).sort()).toEqual([404, 503]);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const logs = stderr
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as { msg: string; method?: string; path?: string; status?: number; ms?: number },
        );
      expect(logs.filter((l) => l.msg === 'request').map((l) => [l.method, l.path, l.status])).toEqual(
        expect.arrayContaining([
          ['POST', '/v1/chat/completions', 200],
          ['GET', '/v1/orders/none', 503],
        ]),
      );
      expect(stderr).not.toContain(token);
      expect(stderr).not.toContain('NESCAFE');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses a token file that is a named pipe at once, naming it, instead of waiting on it', async () => {
    const fifo = join(tmp(), 'token');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    const child = spawn(process.execPath, [CLI, 'dev-cloud', '--port', '0', '--token-file', fifo], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (c, s) => {
        resolve([c, s]);
      }),
    );
    clearTimeout(timer);
    expect({ code, signal }).toEqual({ code: 1, signal: null });
    expect(stderr).toContain('E_TOKEN_FILE');
    expect(stderr).toContain(`${fifo} is not a regular file: it is a named pipe (FIFO)`);
  });

  it('exits 2 on a bad flag value, naming it', async () => {
    const child = spawn(process.execPath, [CLI, 'dev-cloud', '--drip-ms', 'soon'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(2);
    expect(stderr).toContain('--drip-ms soon');
  });
});
