/**
 * Faults the development cloud injects on purpose, so the device's deadlines, retries, idempotency
 * and stream parsing can be tested against a real socket. Each surface (chat, orders) has its own
 * set; a fault applies only to the surface it is set on.
 */

/** Faults either surface can have. */
export interface CommonFaults {
  /** Wait this long before the first byte of every response (headers included). */
  readonly latencyMs?: number;
  /**
   * Answer 503 with Retry-After: a whole number N fails the next N requests, a fraction in (0, 1)
   * fails that share of requests (drawn from the server's `random`).
   */
  readonly status5xx?: number;
  /** Seconds in the Retry-After of those 503s. Default 1. */
  readonly retryAfterS?: number;
  /** Refuse every request with 401, whatever the token. */
  readonly unauthorized?: boolean;
}

export interface ChatFaults extends CommonFaults {
  /** Wait this long between streamed chunks: a slow token drip. */
  readonly dripMs?: number;
  /**
   * Destroy the socket mid-answer: `true` after the first content chunk, a number after that many.
   * Without streaming, after half the JSON body.
   */
  readonly resetMidStream?: boolean | number;
  /** Send a `data:` line that is not JSON after the first content chunk (a 200 non-JSON body without streaming). */
  readonly malformedEvents?: boolean;
}

export interface OrderFaults extends CommonFaults {
  /**
   * Place the order, then destroy the connection instead of replying 201: `true` for every new order,
   * a number for the next N. Retries of an order already placed (200) are answered, so a device that
   * retries with the same key gets the same order.
   */
  readonly dropResponse?: boolean | number;
}

export interface DevCloudFaults {
  readonly chat?: ChatFaults;
  readonly orders?: OrderFaults;
}

export type Surface = keyof DevCloudFaults;

/** The same common faults on both surfaces (what `--fault-scope both` means). */
export function onBoth(faults: CommonFaults): DevCloudFaults {
  return { chat: faults, orders: faults };
}

function checkCount(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0))
    throw new RangeError(`fault ${name}: ${value}: expected a number >= 0`);
}

/** Refuses nonsense (negative delays, NaN) when faults are set, rather than at some later request. */
export function checkFaults(faults: DevCloudFaults): void {
  for (const f of [faults.chat, faults.orders]) {
    if (f === undefined) continue;
    checkCount('latencyMs', f.latencyMs);
    checkCount('retryAfterS', f.retryAfterS);
    checkCount('status5xx', f.status5xx);
    if (f.status5xx !== undefined && f.status5xx > 1 && !Number.isInteger(f.status5xx))
      throw new RangeError(`fault status5xx: ${f.status5xx}: expected a whole count or a rate below 1`);
  }
  checkCount('dripMs', faults.chat?.dripMs);
  if (typeof faults.chat?.resetMidStream === 'number')
    checkCount('resetMidStream', faults.chat.resetMidStream);
  if (typeof faults.orders?.dropResponse === 'number') checkCount('dropResponse', faults.orders.dropResponse);
}

/**
 * The faults in force, with the counters ("the next N") that requests use up. Replacing the faults
 * resets the counters.
 */
export class FaultState {
  private faults: DevCloudFaults = {};
  private failLeft: Record<Surface, number> = { chat: 0, orders: 0 };
  private dropsLeft = 0;

  constructor(
    faults: DevCloudFaults,
    private readonly random: () => number,
  ) {
    this.set(faults);
  }

  set(faults: DevCloudFaults): void {
    checkFaults(faults);
    this.faults = faults;
    this.failLeft = {
      chat: wholeCount(faults.chat?.status5xx),
      orders: wholeCount(faults.orders?.status5xx),
    };
    const drop = faults.orders?.dropResponse;
    this.dropsLeft = drop === true ? Infinity : typeof drop === 'number' ? drop : 0;
  }

  get(): DevCloudFaults {
    return this.faults;
  }

  chat(): ChatFaults {
    return this.faults.chat ?? {};
  }

  latencyMs(surface: Surface): number {
    return this.faults[surface]?.latencyMs ?? 0;
  }

  unauthorized(surface: Surface): boolean {
    return this.faults[surface]?.unauthorized === true;
  }

  /** Whether this request fails with 503 (using up one of "the next N"), and its Retry-After. */
  takeFailure(surface: Surface): { retryAfterS: number } | undefined {
    const f = this.faults[surface];
    const rate = f?.status5xx;
    if (f === undefined || rate === undefined || rate === 0) return undefined;
    if (rate < 1) return this.random() < rate ? { retryAfterS: f.retryAfterS ?? 1 } : undefined;
    if (this.failLeft[surface] <= 0) return undefined;
    this.failLeft[surface]--;
    return { retryAfterS: f.retryAfterS ?? 1 };
  }

  /** Whether the reply to a newly placed order is dropped (using up one of "the next N"). */
  takeDrop(): boolean {
    if (this.dropsLeft <= 0) return false;
    this.dropsLeft--;
    return true;
  }
}

/** 1 and up count requests; a fraction is a rate and has no counter. */
function wholeCount(status5xx: number | undefined): number {
  return status5xx !== undefined && status5xx >= 1 ? status5xx : 0;
}
