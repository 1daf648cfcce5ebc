/**
 * The durable outbox of confirmed orders, and the sender that delivers them.
 *
 * An order the wearer said yes to is written here, one JSON file per order named by its idempotency
 * key, before the wearer hears that it is placed or queued; only then is it sent, always with that key,
 * so the server places it once however often it arrives. Files are replaced atomically (temp file,
 * fsync, rename, fsync of the folder): after a crash a file is the old version or the new one. A
 * leftover temp file is removed: either a first write, an order the wearer never heard confirmed and
 * that was never sent, or a rewrite whose old version still stands (a pending entry is simply resent
 * under its key). A file that cannot be read is reported (E_OUTBOX, naming it) and left for a person
 * to look at, never deleted or resent; while one is there the daily total cannot be known (it may be
 * an order placed today), so `confirmedTotal` refuses and no new order can pass the daily limit.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { GlassesError, isGlassesError, messageOf } from '../errors.js';
import type { Clock } from '../hal/clock.js';
import type { Log } from '../log.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { makePrivateDir } from '../util/private-file.js';
import { fromMinor, toMinor, type Money } from './money.js';
import { httpFacts, orderRequestSchema, orderSchema, type Order, type OrdersApi } from './orders-client.js';

const entrySchema = z
  .object({
    version: z.literal(1),
    /** The Idempotency-Key: chosen when the wearer confirmed, sent unchanged on every retry. */
    key: z.string().regex(/^[A-Za-z0-9-]{16,128}$/),
    request: orderRequestSchema,
    /** What the wearer heard, to speak about the order before the cloud has answered. */
    offer: z.object({ name: z.string(), seller: z.string() }).strict(),
    state: z.enum(['pending', 'acknowledged', 'failed']),
    order: orderSchema.optional(),
    failure: z
      .object({
        status: z.number().int().optional(),
        code: z.string().optional(),
        /** Spoken: "could not be placed: <reason>". */
        reason: z.string(),
        spoken: z.boolean(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type OutboxEntry = Readonly<z.infer<typeof entrySchema>>;
export type NewOrder = Pick<OutboxEntry, 'key' | 'request' | 'offer'>;

/** Where a crash test may stop the process: after the entry is on disk, after the cloud replied. */
export type OrderStep = 'written' | 'replied';

export type Attempt =
  | { readonly result: 'acknowledged' | 'failed'; readonly entry: OutboxEntry }
  | { readonly result: 'retry'; readonly error: GlassesError; readonly retryAfterMs?: number };

export interface OutboxDeps {
  dir: string;
  client: Pick<OrdersApi, 'placeOrder'>;
  clock: Clock;
  retryInitialMs: number;
  retryMaxMs: number;
  log: Log;
  /** Wall-clock date, for pruning old entries. */
  now?: () => Date;
  /** Test hook only (crash tests kill the process here); leave undefined in production. */
  crashPointForTests?: (step: OrderStep, key: string) => void;
}

/** A server asking for more than this is ignored past it: an order must not sleep for days. */
const MAX_RETRY_AFTER_MS = 3_600_000;
/** Settled orders older than this are deleted at start; the daily total only needs today's. */
const RETAIN_SETTLED_MS = 90 * 24 * 3_600_000;
/** writeFileAtomic's temp names: `.<file>.<pid>.<random digits>.tmp`. */
const TEMP_FILE = /^\..+\.(\d+)\.\d+\.tmp$/;

/** The first few files a summary names; the rest are counted. */
const NAMED_FILES = 3;

export class Outbox {
  /** Files that could not be read at start (E_OUTBOX), left in place. */
  readonly problems: GlassesError[] = [];
  private damaged: GlassesError | undefined;
  private readonly entries = new Map<string, OutboxEntry>();
  private readonly inflight = new Map<string, Promise<Attempt>>();
  private readonly writes = new Map<string, Promise<unknown>>();
  private readonly listeners: ((entry: OutboxEntry) => void)[] = [];
  private readonly lifetime = new AbortController();
  private wake: (() => void) | undefined;
  private cutBackoff: AbortController | undefined;

  private constructor(private readonly deps: OutboxDeps) {}

  /**
   * Why new orders are refused, or undefined: entries that cannot be read (one E_OUTBOX for all of
   * them). Worst case such an entry is an order already placed today.
   */
  get damage(): GlassesError | undefined {
    return this.damaged;
  }

  /** Loads the folder (creating it), removing leftover temp files and reporting unreadable entries. */
  static async open(deps: OutboxDeps): Promise<Outbox> {
    const outbox = new Outbox(deps);
    await outbox.load();
    return outbox;
  }

  private async load(): Promise<void> {
    const { dir, log } = this.deps;
    let names: string[];
    try {
      // What the wearer bought and when: 0600 entries (writeFileAtomic's default) in a 0700 folder.
      await makePrivateDir(dir, { narrow: true });
      names = (await fs.readdir(dir)).sort();
    } catch (err) {
      throw new GlassesError('E_OUTBOX', `outbox ${dir}: cannot open it (${messageOf(err)})`, {
        details: { dir },
        cause: err,
      });
    }
    const now = (this.deps.now ?? (() => new Date()))().getTime();
    const removed: string[] = [];
    for (const name of names) {
      const file = join(dir, name);
      const temp = TEMP_FILE.exec(name);
      if (temp !== null) {
        // Another Outbox of this process may be mid-write; only a dead process's temp file is debris.
        if (Number(temp[1]) !== process.pid) {
          await fs.rm(file, { force: true });
          removed.push(file);
        }
        continue;
      }
      if (!name.endsWith('.json')) continue;
      const entry = await readEntry(file, name.slice(0, -'.json'.length));
      if (entry instanceof GlassesError) {
        this.problems.push(entry);
        continue;
      }
      if (entry.state !== 'pending' && now - Date.parse(entry.request.confirmedAt) > RETAIN_SETTLED_MS) {
        await fs.rm(file, { force: true });
        continue;
      }
      this.entries.set(entry.key, entry);
    }
    // One line each however many files: a folder full of junk must not flood the journal.
    if (removed.length > 0) {
      log.warn(
        { dir, count: removed.length, files: removed.slice(0, NAMED_FILES) },
        'outbox: removed temp files left by a crash (never confirmed to the wearer)',
      );
    }
    this.damaged = damageOf(dir, this.problems);
    if (this.damage !== undefined)
      log.error({ code: this.damage.code, ...this.damage.details }, this.damage.message);
    log.info({ dir, pending: this.pending().length, problems: this.problems.length }, 'outbox opened');
  }

  /** Writes a confirmed order durably (pending). Only after this may the wearer hear it is ordered. */
  async add(order: NewOrder): Promise<OutboxEntry> {
    if (this.entries.has(order.key)) {
      throw new GlassesError('E_OUTBOX', `outbox: an order with key ${order.key} already exists`);
    }
    const entry: OutboxEntry = { version: 1, ...order, state: 'pending' };
    await this.write(entry);
    this.deps.crashPointForTests?.('written', entry.key);
    this.wake?.();
    return entry;
  }

  get(key: string): OutboxEntry | undefined {
    return this.entries.get(key);
  }

  /** Orders not yet acknowledged, oldest first. */
  pending(): OutboxEntry[] {
    return [...this.entries.values()]
      .filter((e) => e.state === 'pending')
      .sort((a, b) => Date.parse(a.request.confirmedAt) - Date.parse(b.request.confirmedAt));
  }

  /** The most recently confirmed order, whatever its state: what "where is my order" is about. */
  latest(): OutboxEntry | undefined {
    let best: OutboxEntry | undefined;
    for (const e of this.entries.values()) {
      if (best === undefined || Date.parse(e.request.confirmedAt) >= Date.parse(best.request.confirmedAt)) {
        best = e;
      }
    }
    return best;
  }

  /**
   * What the wearer confirmed on `day` (local date) in `currency`, pending or acknowledged (a failed
   * order was never placed). Computed from the files, so a restart does not reset the daily limit.
   * Per currency: the limits are in the offer's currency units, and adding yen to yuan means nothing.
   * Throws `damage` (E_OUTBOX) while an entry cannot be read: the total would leave it out.
   */
  confirmedTotal(currency: string, day: Date): Money {
    if (this.damage !== undefined) throw this.damage;
    let minor = 0;
    for (const e of this.entries.values()) {
      const at = new Date(e.request.confirmedAt);
      if (e.state === 'failed' || e.request.unitPrice.currency !== currency || !sameDay(at, day)) continue;
      minor += toMinor(e.request.unitPrice) * e.request.quantity;
    }
    return fromMinor(minor, currency);
  }

  /** Failed orders the wearer has not been told about yet, oldest first. */
  unspokenFailures(): OutboxEntry[] {
    return [...this.entries.values()].filter((e) => e.state === 'failed' && e.failure?.spoken === false);
  }

  async markFailureSpoken(key: string): Promise<void> {
    const e = this.entries.get(key);
    if (e?.failure === undefined || e.failure.spoken) return;
    await this.write({ ...e, failure: { ...e.failure, spoken: true } });
  }

  /** Called when an order is acknowledged or fails, whoever sent it. */
  onSettled(listener: (entry: OutboxEntry) => void): void {
    this.listeners.push(listener);
  }

  /**
   * One delivery attempt of a pending order. Concurrent callers share one request, so the confirm path
   * and the background sender never race two requests for the same key.
   */
  attempt(key: string): Promise<Attempt> {
    let p = this.inflight.get(key);
    if (p === undefined) {
      p = this.send(key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /**
   * The background sender: delivers pending orders oldest first until `signal` aborts, backing off
   * from `retryInitialMs` to `retryMaxMs` (or longer when the cloud sends Retry-After) on the clock.
   */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      const next = this.pending()[0];
      if (next === undefined) {
        await this.idle(signal);
        continue;
      }
      let outcome: Attempt;
      try {
        outcome = await this.attempt(next.key);
      } catch (err) {
        // The reply came but could not be recorded (disk): the file still says pending, so resend.
        const error = isGlassesError(err)
          ? err
          : new GlassesError('E_OUTBOX', messageOf(err), { cause: err });
        outcome = { result: 'retry', error };
      }
      if (outcome.result !== 'retry') {
        failures = 0;
        continue;
      }
      if (this.lifetime.signal.aborted) break;
      const backoff = Math.min(this.deps.retryMaxMs, this.deps.retryInitialMs * 2 ** failures);
      failures++;
      const delayMs = Math.max(backoff, Math.min(outcome.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
      this.deps.log.warn(
        {
          code: outcome.error.code,
          status: httpFacts(outcome.error).status,
          delayMs,
          pending: this.pending().length,
        },
        'outbox: order not delivered yet; retrying',
      );
      const cut = new AbortController();
      this.cutBackoff = cut;
      try {
        await this.deps.clock.sleep(delayMs, AbortSignal.any([signal, cut.signal]));
      } catch {
        // Cut short because another order got through: the cloud is back, so retry at once.
        failures = 0;
      } finally {
        this.cutBackoff = undefined;
      }
    }
  }

  /** Ends in-flight requests (shutdown). Pending orders stay on disk and are resent at the next start. */
  close(): void {
    this.lifetime.abort();
    this.wake?.();
  }

  private idle(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private async send(key: string): Promise<Attempt> {
    const entry = this.entries.get(key);
    if (entry === undefined) throw new GlassesError('E_OUTBOX', `outbox: no order with key ${key}`);
    if (entry.state !== 'pending') return { result: entry.state, entry };
    let order: Order;
    try {
      order = await this.deps.client.placeOrder(entry.request, key, this.lifetime.signal);
    } catch (err) {
      const error = isGlassesError(err)
        ? err
        : new GlassesError('E_CLOUD_PROTOCOL', `orders API placeOrder: ${messageOf(err)}`, { cause: err });
      const final = finalFailure(error);
      if (final === undefined) return { result: 'retry', error, ...retryAfterOf(error) };
      this.deps.log.error({ code: error.code, status: final.status }, 'outbox: the cloud refused an order');
      const failed: OutboxEntry = { ...entry, state: 'failed', failure: { ...final, spoken: false } };
      await this.write(failed);
      this.settled(failed);
      return { result: 'failed', entry: failed };
    }
    this.deps.crashPointForTests?.('replied', key);
    const acknowledged: OutboxEntry = { ...entry, state: 'acknowledged', order };
    await this.write(acknowledged);
    this.cutBackoff?.abort();
    this.settled(acknowledged);
    return { result: 'acknowledged', entry: acknowledged };
  }

  private settled(entry: OutboxEntry): void {
    for (const listener of this.listeners) {
      try {
        listener(entry);
      } catch (err) {
        this.deps.log.error({ err: messageOf(err) }, 'outbox: a settled listener threw');
      }
    }
  }

  /** Atomic replace, one write at a time per order; memory follows only once the file is durable. */
  private async write(entry: OutboxEntry): Promise<void> {
    const file = join(this.deps.dir, `${entry.key}.json`);
    const previous = this.writes.get(entry.key) ?? Promise.resolve();
    const next = previous.then(async () => {
      try {
        await writeFileAtomic(file, `${JSON.stringify(entry, null, 2)}\n`);
      } catch (err) {
        throw new GlassesError('E_OUTBOX', `outbox file ${file}: cannot write it (${messageOf(err)})`, {
          details: { file },
          cause: err,
        });
      }
      this.entries.set(entry.key, entry);
    });
    this.writes.set(
      entry.key,
      next.catch(() => undefined),
    );
    await next;
  }
}

/** One error for every entry that cannot be read, naming the first few; undefined for none. */
function damageOf(dir: string, problems: readonly GlassesError[]): GlassesError | undefined {
  if (problems.length === 0) return undefined;
  const named = problems.slice(0, NAMED_FILES);
  const files = named.map((p) => String(p.details.file));
  const list = named.map((p) => `${String(p.details.file)} (${String(p.details.why)})`).join(', ');
  const more = problems.length > named.length ? ` and ${problems.length - named.length} more` : '';
  const what =
    problems.length === 1 ? 'an entry cannot be read' : `${problems.length} entries cannot be read`;
  return new GlassesError(
    'E_OUTBOX',
    `outbox ${dir}: ${what}: ${list}${more}. New orders are refused until each is moved out of the ` +
      'folder: it may be an order already placed today, which the daily limit must count',
    { details: { dir, count: problems.length, files } },
  );
}

/**
 * What `glasses doctor` needs of an outbox folder without opening it as the runtime does (nothing is
 * removed, sent or rewritten): how many entries it holds, and the one error for those that cannot be
 * read. Undefined when the folder does not exist (no order yet).
 */
export async function inspectOutbox(
  dir: string,
): Promise<{ entries: number; damage: GlassesError | undefined } | undefined> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return {
      entries: 0,
      damage: new GlassesError('E_OUTBOX', `outbox ${dir}: cannot list it (${messageOf(err)})`, {
        details: { dir, count: 1, files: [dir], why: messageOf(err) },
        cause: err,
      }),
    };
  }
  const problems: GlassesError[] = [];
  let entries = 0;
  for (const name of names.sort()) {
    if (TEMP_FILE.test(name) || !name.endsWith('.json')) continue;
    const entry = await readEntry(join(dir, name), name.slice(0, -'.json'.length));
    if (entry instanceof GlassesError) problems.push(entry);
    else entries++;
  }
  return { entries, damage: damageOf(dir, problems) };
}

async function readEntry(file: string, key: string): Promise<OutboxEntry | GlassesError> {
  const problem = (why: string, cause?: unknown): GlassesError =>
    new GlassesError('E_OUTBOX', `outbox file ${file}: ${why}; left in place, not sent`, {
      details: { file, why },
      cause,
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    return problem(`cannot read it as JSON (${messageOf(err)})`, err);
  }
  const result = entrySchema.safeParse(parsed);
  if (!result.success) {
    const where = result.error.issues[0]?.path.map(String).join('.') ?? '';
    return problem(`not an outbox entry (at "${where}")`);
  }
  // A file copied or renamed by hand would be sent under a key it was not confirmed with.
  if (result.data.key !== key) return problem(`its key ${result.data.key} does not match its name`);
  return result.data;
}

/**
 * The reason an order will never be placed, or undefined when it may be retried. The API: 5xx, 408 and
 * 429 are retried, other 4xx are not. A protocol error may hide an order already placed: resending
 * under the same key is what finds out.
 */
function finalFailure(error: GlassesError): { status: number; code?: string; reason: string } | undefined {
  if (error.code !== 'E_CLOUD_HTTP' && error.code !== 'E_CLOUD_AUTH') return undefined;
  const { status, code } = httpFacts(error);
  if (status === undefined || status < 400 || status >= 500 || status === 408 || status === 429) {
    return undefined;
  }
  return { status, ...(code === undefined ? {} : { code }), reason: reasonFor(status, code) };
}

function reasonFor(status: number, code: string | undefined): string {
  if (status === 422 && code === 'price_changed') return 'the price changed since you said yes';
  if (status === 422 || status === 404) return 'the item is no longer available';
  if (status === 401 || status === 403) return "the orders service didn't accept this device";
  if (status === 409) return 'the orders service saw a different order under the same reference';
  return 'the orders service refused it';
}

function retryAfterOf(error: GlassesError): { retryAfterMs?: number } {
  const { retryAfterMs } = httpFacts(error);
  return retryAfterMs === undefined ? {} : { retryAfterMs };
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}
