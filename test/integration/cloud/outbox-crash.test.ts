/**
 * kill -9 at each step of an order, then a restart on the same outbox: the server ends with exactly
 * one order every time. The child (test/helpers/order-driver.ts) runs "buy this" and "yes" against the
 * development cloud and SIGKILLs itself at the step named; the restart runs in this process.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevCloud, type DevCloud } from '../../../firmware-ts/dev/dev-cloud/server.js';
import { OrdersClient } from '../../../firmware-ts/src/cloud/orders-client.js';
import { Outbox } from '../../../firmware-ts/src/cloud/outbox.js';
import { RealClock } from '../../../firmware-ts/src/hal/clock.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';

const TOKEN = 'crash-test-token-0123456789';
const DRIVER = join(PACKAGE_ROOT, 'test', 'helpers', 'order-driver.ts');

let cloud: DevCloud;
let work: string;
let tokenFile: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'outbox-crash-'));
  tokenFile = join(work, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  chmodSync(tokenFile, 0o600);
  cloud = await createDevCloud({ token: TOKEN, dataFile: join(work, 'cloud-orders.json') });
});

afterAll(async () => {
  await cloud.close();
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runDriver(outboxDir: string, crashAt: string | undefined): Promise<Run> {
  return new Promise((resolve, reject) => {
    // node --import tsx, not the tsx binary: the binary runs the script in a grandchild, so the
    // SIGKILL would show up only as the wrapper's exit code.
    const child = spawn(process.execPath, ['--import', 'tsx', DRIVER], {
      cwd: PACKAGE_ROOT,
      env: {
        ...process.env,
        ORDER_DRIVER_URL: cloud.url,
        ORDER_DRIVER_TOKEN_FILE: tokenFile,
        ORDER_DRIVER_OUTBOX: outboxDir,
        ...(crashAt === undefined ? {} : { ORDER_DRIVER_CRASH_AT: crashAt }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** What the glasses do at the next start: open the same outbox and let the sender deliver it. */
async function restartAndDeliver(outboxDir: string): Promise<Outbox> {
  const clock = new RealClock();
  const log = silentLogger();
  const client = new OrdersClient({ baseUrl: cloud.url, token: TOKEN, requestTimeoutMs: 5000, clock, log });
  const outbox = await Outbox.open({
    dir: outboxDir,
    client,
    clock,
    retryInitialMs: 50,
    retryMaxMs: 500,
    log,
  });
  const stop = new AbortController();
  const running = outbox.run(stop.signal);
  const t0 = Date.now();
  while (outbox.pending().length > 0) {
    if (Date.now() - t0 > 10_000) throw new Error('the restarted sender did not deliver the order');
    await new Promise((r) => setTimeout(r, 20));
  }
  stop.abort();
  outbox.close();
  await running;
  return outbox;
}

function newOrderIds(before: Set<string>): string[] {
  return cloud
    .orders()
    .map((o) => o.orderId)
    .filter((id) => !before.has(id));
}

describe('kill -9 during an order, then restart', () => {
  it('without a crash the driver places one order', async () => {
    const before = new Set(cloud.orders().map((o) => o.orderId));
    const run = await runDriver(mkdtempSync(join(work, 'outbox-')), undefined);
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout) as { offer: string; reply: string };
    expect(out.offer).toMatch(/^The best match is Nongfu Spring water, 550 ml, 2 yuan, from Daily Mart\./);
    expect(out.reply).toMatch(/^Done\. Order [0-9A-Z ]+ is placed\.$/);
    expect(newOrderIds(before)).toHaveLength(1);
  });

  // After the entry is durable and before anything was sent; after the server placed it but before
  // the device read the reply; after the reply but before the outbox recorded it.
  it.each([
    ['written', 0],
    ['sent', 1],
    ['replied', 1],
  ])('killed at "%s": exactly one order after the restart', async (step, placedBeforeRestart) => {
    const dir = mkdtempSync(join(work, `outbox-${step}-`));
    const before = new Set(cloud.orders().map((o) => o.orderId));
    const run = await runDriver(dir, step);
    expect(run.signal).toBe('SIGKILL');
    expect(run.stdout).toBe('');
    // The order is on disk, still pending, in one file, with no temp file beside it.
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[0-9a-f-]{36}\.json$/);
    expect(newOrderIds(before)).toHaveLength(placedBeforeRestart);

    const outbox = await restartAndDeliver(dir);
    const placed = newOrderIds(before);
    expect(placed).toHaveLength(1);
    const entry = outbox.latest();
    expect(entry?.state).toBe('acknowledged');
    expect(entry?.order?.orderId).toBe(placed[0]);
    expect(entry?.request.quantity).toBe(1);

    // A second restart sends nothing more.
    await restartAndDeliver(dir);
    expect(newOrderIds(before)).toHaveLength(1);
  });
});
