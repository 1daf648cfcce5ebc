/**
 * A child process that runs the whole confirm path against a real orders server ("buy this", then
 * "yes") and kills itself with SIGKILL at the step named by ORDER_DRIVER_CRASH_AT, for
 * test/integration/cloud/outbox-crash.test.ts:
 *
 * - `written`: the order is in the outbox, nothing sent yet;
 * - `sent`: the server has placed the order and its reply is on the wire, but the device never reads it;
 * - `replied`: the reply is parsed, the outbox not yet marked acknowledged;
 * - unset: no crash; prints the spoken replies as one JSON line.
 *
 * Environment: ORDER_DRIVER_URL (orders API base), ORDER_DRIVER_TOKEN_FILE, ORDER_DRIVER_OUTBOX.
 */
import { OrdersClient } from '../../firmware-ts/src/cloud/orders-client.js';
import { readDeviceToken } from '../../firmware-ts/src/cloud/security.js';
import { OrdersService } from '../../firmware-ts/src/cloud/orders-service.js';
import { Outbox, type OrderStep } from '../../firmware-ts/src/cloud/outbox.js';
import { RealClock } from '../../firmware-ts/src/hal/clock.js';
import { silentLogger } from '../../firmware-ts/src/log.js';
import type { Scene } from '../../firmware-ts/src/vision/scene.js';
import { nongfuScene } from './scenes.js';

type CrashAt = OrderStep | 'sent';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`order-driver: ${name} is not set`);
  return value;
}

const DRIVER_SCENE: Scene = nongfuScene('order-driver');

async function main(): Promise<void> {
  const crashAt = process.env.ORDER_DRIVER_CRASH_AT as CrashAt | undefined;
  const die = (): void => {
    process.kill(process.pid, 'SIGKILL');
  };
  const clock = new RealClock();
  const log = silentLogger();

  // `sent`: let the request reach the server and the reply arrive, then die before reading it.
  const fetchThenDie: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (
      crashAt === 'sent' &&
      init?.method === 'POST' &&
      (input instanceof Request ? input.url : input.toString()).endsWith('/v1/orders')
    )
      die();
    return res;
  };
  const client = new OrdersClient({
    baseUrl: required('ORDER_DRIVER_URL'),
    token: await readDeviceToken(required('ORDER_DRIVER_TOKEN_FILE')),
    requestTimeoutMs: 5000,
    clock,
    log,
    fetch: fetchThenDie,
  });
  const outbox = await Outbox.open({
    dir: required('ORDER_DRIVER_OUTBOX'),
    client,
    clock,
    retryInitialMs: 100,
    retryMaxMs: 1000,
    log,
    crashPointForTests: (step) => {
      if (step === crashAt) die();
    },
  });
  const service = new OrdersService({
    client,
    outbox,
    clock,
    vision: { look: () => Promise.resolve(DRIVER_SCENE), sceneFor: () => undefined },
    limits: { maxOrderAmount: 500, maxDailyAmount: 1000 },
    now: () => new Date(),
    onOrder: () => undefined,
    log,
    placeWaitMs: 5000,
  });
  const signal = new AbortController().signal;
  const { text: offer, offer: made } = await service.answer({ name: 'buy', slots: { quantity: 1 } }, signal);
  if (made === undefined) throw new Error(`order-driver: no offer was made (${offer})`);
  const reply = await made.accept(signal);
  outbox.close();
  process.stdout.write(`${JSON.stringify({ offer, reply })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`order-driver: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
