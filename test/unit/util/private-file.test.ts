/**
 * What the wearer bought, heard and when is theirs: the outbox, the development cloud's data file and
 * the answers a demo writes are 0600 files in 0700 folders, whatever the umask.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AudioChunk } from '../../../firmware-ts/src/audio/chunk.js';
import { OrderStore } from '../../../firmware-ts/dev/dev-cloud/orders.js';
import type { OrdersApi } from '../../../firmware-ts/src/cloud/orders-client.js';
import { Outbox } from '../../../firmware-ts/src/cloud/outbox.js';
import { SimulatedClock } from '../../../firmware-ts/src/hal/clock.js';
import { TimelineSpeaker } from '../../../firmware-ts/src/hal/timeline-speaker.js';
import { makePrivateDir } from '../../../firmware-ts/src/util/private-file.js';

const mode = (path: string): number => statSync(path).mode & 0o777;
/** Every file and folder under `dir`, with its mode. */
function modes(dir: string): Record<string, number> {
  const out: Record<string, number> = { '.': mode(dir) };
  for (const p of readdirSync(dir, { recursive: true }) as string[]) out[p] = mode(join(dir, p));
  return out;
}

let umask = 0;
beforeEach(() => {
  // The widest umask: any mode not set on purpose shows.
  umask = process.umask(0);
});
afterEach(() => {
  process.umask(umask);
});

describe('private files', () => {
  it('the outbox: 0600 entries in a 0700 folder, an older world-readable folder narrowed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'private-outbox-'));
    const client: Pick<OrdersApi, 'placeOrder'> = { placeOrder: () => new Promise(() => undefined) };
    const open = (dir: string) =>
      Outbox.open({
        dir,
        client,
        clock: new SimulatedClock(),
        retryInitialMs: 500,
        retryMaxMs: 4000,
        log: pino({ level: 'silent' }),
      });
    const key = '00000000-0000-4000-8000-000000000001';
    const outbox = await open(join(root, 'made', 'outbox'));
    await outbox.add({
      key,
      request: {
        kind: 'product',
        itemId: 'p-1',
        quantity: 1,
        unitPrice: { amount: 2, currency: 'CNY' },
        confirmedAt: '2025-03-01T10:00:00.000Z',
      },
      offer: { name: 'Water', seller: 'Mart' },
    });
    expect(modes(join(root, 'made'))).toEqual({ '.': 0o700, outbox: 0o700, [`outbox/${key}.json`]: 0o600 });
    const old = join(root, 'old-outbox');
    mkdirSync(old);
    chmodSync(old, 0o755);
    await open(old);
    expect(mode(old)).toBe(0o700);
  });

  it("the development cloud's data file: 0600 in a 0700 folder", async () => {
    const root = mkdtempSync(join(tmpdir(), 'private-dev-cloud-'));
    const store = await OrderStore.open(join(root, 'dev-cloud', 'orders.json'), () =>
      Date.parse('2026-01-01T08:00:00Z'),
    );
    await store.place('0b9d6c3e-5f4a-4c1e-9a57-2f1d7c1b8e01', {
      kind: 'service',
      itemId: 's-coffee-latte',
      quantity: 1,
      unitPrice: { amount: 18, currency: 'CNY' },
      confirmedAt: '2026-01-01T07:59:58.000Z',
    });
    await store.flushed();
    expect(modes(root)).toEqual({ '.': 0o700, 'dev-cloud': 0o700, 'dev-cloud/orders.json': 0o600 });
  });

  it("a file run's answers: 0600 WAVs in a 0700 folder", async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'private-answers-')), 'out');
    mkdirSync(root, { mode: 0o700 });
    const clock = new SimulatedClock();
    const speaker = new TimelineSpeaker(join(root, 'conversation.wav'), clock, join(root, 'answers'));
    const answer: AudioChunk = {
      pcm: new Int16Array(8000).fill(1000),
      sampleRateHz: 16000,
      channels: 1,
      tsMs: 0,
    };
    const playing = speaker.play([answer], new AbortController().signal);
    const state = { played: false };
    void playing.then(() => (state.played = true));
    while (!state.played) await clock.advance(20);
    await speaker.close();
    expect(modes(root)).toEqual({
      '.': 0o700,
      'conversation.wav': 0o600,
      answers: 0o700,
      'answers/answer-01.wav': 0o600,
    });
  });

  it("leaves the mode of a folder already there (a shared one) unless told it is the caller's alone", async () => {
    const root = mkdtempSync(join(tmpdir(), 'private-dir-'));
    chmodSync(root, 0o755);
    await makePrivateDir(root);
    expect(mode(root)).toBe(0o755);
    await makePrivateDir(join(root, 'a', 'b'));
    expect([mode(join(root, 'a')), mode(join(root, 'a', 'b'))]).toEqual([0o700, 0o700]);
    await makePrivateDir(root, { narrow: true });
    expect(mode(root)).toBe(0o700);
  });
});
