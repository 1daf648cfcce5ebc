import {
  existsSync,
  promises as fsp,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Order, OrderRequest, OrdersApi } from '../../../firmware-ts/src/cloud/orders-client.js';
import { inspectOutbox, Outbox, type NewOrder } from '../../../firmware-ts/src/cloud/outbox.js';
import { GlassesError } from '../../../firmware-ts/src/errors.js';
import { SimulatedClock } from '../../../firmware-ts/src/hal/clock.js';

/** A simulated clock that also remembers every sleep asked of it: the sender's backoff delays. */
class RecordingClock extends SimulatedClock {
  readonly sleeps: number[] = [];
  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return super.sleep(ms, signal);
  }
}

type Reply = Order | GlassesError;

function fakeClient(replies: Reply[], clock: SimulatedClock) {
  const calls: { key: string; request: OrderRequest; atMs: number }[] = [];
  const client: Pick<OrdersApi, 'placeOrder'> = {
    placeOrder: (request, key) => {
      calls.push({ key, request, atMs: clock.now() });
      const reply = replies.length > 1 ? replies.shift()! : replies[0]!;
      return reply instanceof GlassesError ? Promise.reject(reply) : Promise.resolve(reply);
    },
  };
  return { client, calls };
}

const order = (orderId: string): Order => ({
  orderId,
  status: 'placed',
  kind: 'product',
  itemId: 'p-1',
  name: 'Water',
  quantity: 1,
  total: { amount: 2, currency: 'CNY' },
  createdAt: '2025-03-01T10:00:00.000Z',
});

const http = (status: number, extra: Record<string, unknown> = {}): GlassesError =>
  new GlassesError(status === 401 ? 'E_CLOUD_AUTH' : 'E_CLOUD_HTTP', `HTTP ${status}`, {
    details: { status, ...extra },
  });
const unreachable = (): GlassesError => new GlassesError('E_CLOUD_UNREACHABLE', 'refused');

let n = 0;
function newOrder(overrides: Partial<OrderRequest> = {}): NewOrder {
  n++;
  return {
    key: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    request: {
      kind: 'product',
      itemId: 'p-1',
      quantity: 1,
      unitPrice: { amount: 2, currency: 'CNY' },
      confirmedAt: '2025-03-01T10:00:00.000Z',
      ...overrides,
    },
    offer: { name: 'Water', seller: 'Mart' },
  };
}

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'outbox-'));
let stop = new AbortController();
beforeEach(() => {
  stop = new AbortController();
});
afterEach(() => {
  stop.abort();
});

async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 5000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function open(
  dir: string,
  replies: Reply[],
  clock = new RecordingClock(),
  log = pino({ level: 'silent' }),
) {
  const { client, calls } = fakeClient(replies, clock);
  const outbox = await Outbox.open({
    dir,
    client,
    clock,
    retryInitialMs: 500,
    retryMaxMs: 4000,
    log,
    now: () => new Date('2025-03-01T12:00:00'),
  });
  return { outbox, calls, clock };
}

describe('Outbox', () => {
  it('writes an order to its own file before add resolves, with no temp file left', async () => {
    const dir = tempDir();
    const { outbox } = await open(dir, [order('o1')]);
    const o = newOrder();
    await outbox.add(o);
    expect(readdirSync(dir)).toEqual([`${o.key}.json`]);
    const onDisk = JSON.parse(readFileSync(join(dir, `${o.key}.json`), 'utf8')) as Record<string, unknown>;
    expect(onDisk).toMatchObject({ version: 1, key: o.key, state: 'pending', request: o.request });
    await expect(outbox.add(o)).rejects.toMatchObject({ code: 'E_OUTBOX' });
  });

  it('marks a 2xx acknowledged with the order, durably, and sends the key unchanged', async () => {
    const dir = tempDir();
    const { outbox, calls } = await open(dir, [order('o1')]);
    const o = newOrder();
    await outbox.add(o);
    const attempt = await outbox.attempt(o.key);
    expect(attempt.result).toBe('acknowledged');
    expect(calls.map((c) => c.key)).toEqual([o.key]);
    const reopened = await open(dir, []);
    expect(reopened.outbox.get(o.key)).toMatchObject({ state: 'acknowledged', order: { orderId: 'o1' } });
    expect(reopened.outbox.pending()).toEqual([]);
  });

  it('shares one request between concurrent attempts of the same order', async () => {
    const { outbox, calls } = await open(tempDir(), [order('o1')]);
    const o = newOrder();
    await outbox.add(o);
    const [a, b] = await Promise.all([outbox.attempt(o.key), outbox.attempt(o.key)]);
    expect(calls).toHaveLength(1);
    expect(a).toBe(b);
    // Already acknowledged: nothing is sent again.
    await outbox.attempt(o.key);
    expect(calls).toHaveLength(1);
  });

  it('retries with backoff on the clock, honouring Retry-After, until the cloud answers', async () => {
    const dir = tempDir();
    const { outbox, calls, clock } = await open(dir, [
      http(503, { retryAfterMs: 3000 }),
      unreachable(),
      unreachable(),
      http(429, { retryAfterMs: 100 }),
      order('o1'),
    ]);
    const o = newOrder();
    await outbox.add(o);
    const running = outbox.run(stop.signal);
    for (let i = 1; i <= 4; i++) {
      await until(() => calls.length === i && clock.pendingSleepers === 1, `attempt ${i}`);
      await clock.advance(clock.sleeps[clock.sleeps.length - 1]!);
    }
    await until(() => outbox.get(o.key)?.state === 'acknowledged', 'acknowledged');
    // Retry-After 3 s beats the first backoff (500); then 1000, 2000; a short Retry-After does not
    // shorten the backoff (4000, the cap).
    expect(clock.sleeps).toEqual([3000, 1000, 2000, 4000]);
    expect(calls.map((c) => c.atMs)).toEqual([0, 3000, 4000, 6000, 10_000]);
    expect(new Set(calls.map((c) => c.key))).toEqual(new Set([o.key]));
    stop.abort();
    await running;
  });

  it.each([400, 404, 409, 422, 401])(
    'a %i marks the order failed, with a reason, and stops',
    async (status) => {
      const dir = tempDir();
      const { outbox, calls } = await open(dir, [
        http(status, status === 422 ? { code: 'price_changed' } : {}),
      ]);
      const o = newOrder();
      await outbox.add(o);
      const attempt = await outbox.attempt(o.key);
      expect(attempt.result).toBe('failed');
      const entry = outbox.get(o.key)!;
      expect(entry.failure).toMatchObject({ status, spoken: false });
      if (status === 422) expect(entry.failure?.reason).toBe('the price changed since you said yes');
      expect(outbox.unspokenFailures().map((e) => e.key)).toEqual([o.key]);
      await outbox.attempt(o.key);
      expect(calls).toHaveLength(1);
      await outbox.markFailureSpoken(o.key);
      const reopened = await open(dir, []);
      expect(reopened.outbox.unspokenFailures()).toEqual([]);
      expect(reopened.outbox.get(o.key)?.state).toBe('failed');
    },
  );

  it('resends pending orders on start, with their own keys, oldest first', async () => {
    const dir = tempDir();
    const first = await open(dir, [unreachable()]);
    const older = newOrder({ confirmedAt: '2025-03-01T09:00:00.000Z' });
    const newer = newOrder({ confirmedAt: '2025-03-01T11:00:00.000Z' });
    await first.outbox.add(newer);
    await first.outbox.add(older);
    first.outbox.close();

    const { outbox, calls } = await open(dir, [order('o1'), order('o2')]);
    expect(outbox.pending().map((e) => e.key)).toEqual([older.key, newer.key]);
    const running = outbox.run(stop.signal);
    await until(() => outbox.pending().length === 0, 'all delivered');
    expect(calls.map((c) => c.key)).toEqual([older.key, newer.key]);
    stop.abort();
    await running;
  });

  it('removes a temp file left by a crash and reports an unreadable entry without deleting it', async () => {
    const dir = tempDir();
    const { outbox: writer } = await open(dir, []);
    const good = newOrder();
    await writer.add(good);
    const copied = newOrder();
    const temp = `.${copied.key}.json.999999999.1700000000000.tmp`;
    writeFileSync(join(dir, temp), '{"version":1,"key":"half-writ');
    writeFileSync(join(dir, 'broken.json'), '{"version":1,"key":"');
    writeFileSync(join(dir, 'stranger.json'), JSON.stringify({ hello: 'world' }));
    // A valid entry under another file name: it would be sent under a key it was not confirmed with.
    writeFileSync(join(dir, `${copied.key}.json`), readFileSync(join(dir, `${good.key}.json`)));

    const { outbox, calls } = await open(dir, [order('o1')]);
    expect(existsSync(join(dir, temp))).toBe(false);
    const problems = outbox.problems.map((p) => ({ code: p.code, message: p.message }));
    expect(problems).toHaveLength(3);
    for (const name of ['broken.json', 'stranger.json', `${copied.key}.json`]) {
      expect(problems.some((p) => p.code === 'E_OUTBOX' && p.message.includes(join(dir, name)))).toBe(true);
      expect(existsSync(join(dir, name))).toBe(true);
    }
    expect(outbox.pending().map((e) => e.key)).toEqual([good.key]);
    const running = outbox.run(stop.signal);
    await until(() => outbox.pending().length === 0, 'delivered');
    expect(calls.map((c) => c.key)).toEqual([good.key]);
    stop.abort();
    await running;
  });

  it("computes the day's confirmed total from the files, so a restart does not reset it", async () => {
    const dir = tempDir();
    const { outbox } = await open(dir, [http(422, { code: 'price_changed' })]);
    const day = new Date('2025-03-01T12:00:00');
    const at = (h: number): string => new Date(2025, 2, 1, h).toISOString();
    await outbox.add(
      newOrder({ unitPrice: { amount: 0.1, currency: 'CNY' }, quantity: 3, confirmedAt: at(9) }),
    );
    await outbox.add(newOrder({ unitPrice: { amount: 100, currency: 'CNY' }, confirmedAt: at(10) }));
    await outbox.add(newOrder({ unitPrice: { amount: 5, currency: 'USD' }, confirmedAt: at(10) }));
    await outbox.add(
      newOrder({
        unitPrice: { amount: 7, currency: 'CNY' },
        confirmedAt: new Date(2025, 1, 28, 23).toISOString(),
      }),
    );
    const refused = newOrder({ unitPrice: { amount: 50, currency: 'CNY' }, confirmedAt: at(11) });
    await outbox.add(refused);
    await outbox.attempt(refused.key);
    expect(outbox.confirmedTotal('CNY', day)).toEqual({ amount: 100.3, currency: 'CNY' });

    const reopened = await open(dir, []);
    expect(reopened.outbox.confirmedTotal('CNY', day)).toEqual({ amount: 100.3, currency: 'CNY' });
    expect(reopened.outbox.confirmedTotal('USD', day)).toEqual({ amount: 5, currency: 'USD' });
    expect(reopened.outbox.latest()?.key).toBe(refused.key);
  });
});

/** Log lines at `level` or above, as pino writes them. */
function recordingLog() {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (l: string) => lines.push(JSON.parse(l) as never) });
  return {
    log,
    errors: () => lines.filter((l) => l.level >= 50),
    warnings: () => lines.filter((l) => l.level === 40),
  };
}

describe('Outbox: a damaged entry fails closed', () => {
  const day = new Date('2025-03-01T12:00:00');
  const damages: [string, (file: string) => void][] = [
    [
      'truncated',
      (file) => {
        truncateSync(file, 40);
      },
    ],
    [
      'garbage',
      (file) => {
        writeFileSync(file, Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37]));
      },
    ],
    [
      'of another schema',
      (file) => {
        writeFileSync(file, JSON.stringify({ version: 2, total: 12 }));
      },
    ],
    // Root reads a mode-0 file anyway: a folder where the file was is unreadable for everyone.
    [
      'unreadable',
      (file) => {
        rmSync(file);
        mkdirSync(file);
      },
    ],
  ];
  for (const [how, damage] of damages) {
    it(`an entry that is ${how} is not left out of the daily total: the total refuses, naming it`, async () => {
      const dir = tempDir();
      const { outbox: first } = await open(dir, [order('o1')]);
      const placed = newOrder({ unitPrice: { amount: 12, currency: 'CNY' } });
      await first.add(placed);
      await first.attempt(placed.key);
      expect(first.confirmedTotal('CNY', day)).toEqual({ amount: 12, currency: 'CNY' });
      const file = join(dir, `${placed.key}.json`);
      damage(file);

      const { log, errors } = recordingLog();
      const { outbox } = await open(dir, [], new RecordingClock(), log);
      expect(outbox.damage).toMatchObject({ code: 'E_OUTBOX', details: { count: 1, files: [file] } });
      expect(outbox.damage?.message).toContain(file);
      expect(() => outbox.confirmedTotal('CNY', day)).toThrow(outbox.damage!);
      expect(errors().map((l) => l.msg)).toEqual([outbox.damage?.message]);
      // Left for a person to look at.
      expect(existsSync(file)).toBe(true);
    });
  }

  it('5,000 junk files and 200 crash leftovers give one error line and one warning, not 5,200', async () => {
    const dir = tempDir();
    for (let i = 0; i < 5000; i++) writeFileSync(join(dir, `junk-${i}.json`), 'not json');
    for (let i = 0; i < 200; i++) writeFileSync(join(dir, `.x${i}.json.999999999.${i}.tmp`), '{');
    const { log, errors, warnings } = recordingLog();
    const { outbox } = await open(dir, [], new RecordingClock(), log);
    expect(errors()).toHaveLength(1);
    expect(errors()[0]?.msg).toMatch(/5000 entries cannot be read: .*junk-0\.json .* and 4997 more\./);
    expect(warnings()).toHaveLength(1);
    expect(outbox.problems).toHaveLength(5000);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('inspectOutbox (for glasses doctor) counts entries and names the damaged ones without touching them', async () => {
    const dir = tempDir();
    expect(await inspectOutbox(join(dir, 'none'))).toBeUndefined();
    const { outbox } = await open(dir, []);
    await outbox.add(newOrder());
    const temp = '.a.json.999999999.1.tmp';
    writeFileSync(join(dir, temp), '{');
    expect(await inspectOutbox(dir)).toEqual({ entries: 1, damage: undefined });
    writeFileSync(join(dir, 'broken.json'), '{"version":1');
    const seen = await inspectOutbox(dir);
    expect(seen?.entries).toBe(1);
    expect(seen?.damage).toMatchObject({ code: 'E_OUTBOX', details: { count: 1 } });
    expect(seen?.damage?.message).toContain(join(dir, 'broken.json'));
    expect(existsSync(join(dir, temp))).toBe(true);
  });
});

describe('Outbox: a write that fails', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('leaves no temp file behind when the disk fails part-way through the write', async () => {
    const dir = tempDir();
    const { outbox } = await open(dir, []);
    const realOpen = fsp.open.bind(fsp);
    vi.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const handle = await realOpen(...args);
      if (!String(args[0]).endsWith('.tmp')) return handle;
      // Half the entry reaches the disk, then it is full.
      handle.writeFile = async (data) => {
        await handle.write(String(data).slice(0, 20));
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      };
      return handle;
    });
    const lost = newOrder();
    await expect(outbox.add(lost)).rejects.toMatchObject({ code: 'E_OUTBOX' });
    expect(readdirSync(dir)).toEqual([]);
    expect(outbox.get(lost.key)).toBeUndefined();
  });
});
