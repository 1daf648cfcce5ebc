/** From config to the cloud side: the development cloud in the process, a configured cloud, or none. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectCloud, type CloudOptions } from '../../../firmware-ts/src/compose/cloud.js';
import devCloud from '../../../firmware-ts/dev/dev-cloud/index.js';
import { createDevCloud } from '../../../firmware-ts/dev/dev-cloud/server.js';
import { loadConfig } from '../../../firmware-ts/src/config.js';
import { RealClock } from '../../../firmware-ts/src/hal/clock.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import type { OrderEvent } from '../../../firmware-ts/src/voice-loop/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'connect-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const options = (embedded: boolean, events: OrderEvent[] = []): CloudOptions => ({
  embedded,
  outboxDir: join(dir, `outbox-${String(embedded)}`),
  loopClock: new RealClock(),
  vision: undefined,
  onOrder: (e) => events.push(e),
  now: () => new Date(),
  log: silentLogger(),
  devCloud,
});

async function answerText(source: NonNullable<Awaited<ReturnType<typeof connectCloud>>['answers']>) {
  let text = '';
  const q = { pcm: new Int16Array(16000), transcript: 'what is the capital of france', confidence: 0.9 };
  for await (const piece of source.ask(q, new AbortController().signal)) text += piece;
  return text;
}

describe('connectCloud', () => {
  it('with no cloud configured and embedding allowed, answers and orders through the development cloud', async () => {
    const events: OrderEvent[] = [];
    const side = await connectCloud(loadConfig({ env: {} }), options(true, events));
    try {
      expect(side.targets).toEqual({ llm: 'development cloud', orders: 'development cloud' });
      expect(await answerText(side.answers!)).toMatch(/^Development cloud: /);
      const signal = new AbortController().signal;
      const reply = await side.orders!.answer({ name: 'order', slots: { item: 'coffee' } }, signal);
      expect(reply.text).toMatch(/Say yes to order it\.$/);
      expect(await reply.offer!.accept(signal)).toMatch(/^Done\. Order .* is placed\.$/);
      expect(events.map((e) => e.state)).toEqual(['placed']);
    } finally {
      await side.close();
    }
  });

  it('with no cloud configured and embedding allowed, but no development cloud installed: E_DEV_CLOUD_ABSENT', async () => {
    const { devCloud: _, ...without } = options(true);
    await expect(connectCloud(loadConfig({ env: {} }), without)).rejects.toMatchObject({
      code: 'E_DEV_CLOUD_ABSENT',
      message: expect.stringContaining('cloud.llmBaseUrl and cloud.ordersBaseUrl') as string,
    });
    await expect(
      connectCloud(loadConfig({ env: {} }), { ...without, embedded: false, devOrders: true }),
    ).rejects.toMatchObject({
      code: 'E_DEV_CLOUD_ABSENT',
      message: expect.stringMatching(/^the demo /) as string,
    });
    // A run that does not embed it never needs it.
    const side = await connectCloud(loadConfig({ env: {} }), { ...without, embedded: false });
    expect(side.targets).toEqual({ llm: 'off', orders: 'off' });
    await side.close();
  });

  it('with no cloud configured and no embedding, leaves both sides off and needs no token', async () => {
    const side = await connectCloud(loadConfig({ env: {} }), options(false));
    expect(side.answers).toBeUndefined();
    expect(side.orders).toBeUndefined();
    expect(side.targets).toEqual({ llm: 'off', orders: 'off' });
    await side.close();
  });

  it('a configured cloud with its token file: the real clients, and the token checked first', async () => {
    const cloud = await createDevCloud({ token: 'configured-token' });
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'configured-token\n', { mode: 0o600 });
    const config = (file: string) =>
      loadConfig({
        env: {},
        overrides: { cloud: { llmBaseUrl: cloud.llmBaseUrl, ordersBaseUrl: cloud.url, tokenFile: file } },
      });
    try {
      const side = await connectCloud(config(tokenFile), options(true));
      expect(side.targets).toEqual({ llm: cloud.llmBaseUrl, orders: cloud.url });
      expect(await answerText(side.answers!)).toMatch(/^Development cloud: /);
      await side.close();

      chmodSync(tokenFile, 0o640);
      await expect(connectCloud(config(tokenFile), options(true))).rejects.toMatchObject({
        code: 'E_TOKEN_FILE',
        message: expect.stringContaining(tokenFile) as string,
      });
      await expect(connectCloud(config(''), options(true))).rejects.toMatchObject({ code: 'E_TOKEN_FILE' });
    } finally {
      await cloud.close();
    }
  });

  it("the demo's orders go to its own development cloud, never to a configured orders API", async () => {
    // A real orders API stands in for the configured one: it would take the order if it were sent.
    const configured = await createDevCloud({ token: 'configured-token' });
    const tokenFile = join(dir, 'token-demo');
    writeFileSync(tokenFile, 'configured-token\n', { mode: 0o600 });
    const config = loadConfig({
      env: {},
      overrides: { cloud: { ordersBaseUrl: configured.url, tokenFile } },
    });
    const events: OrderEvent[] = [];
    const side = await connectCloud(config, { ...options(true, events), devOrders: true });
    try {
      expect(side.targets).toEqual({ llm: 'development cloud', orders: 'development cloud' });
      const signal = new AbortController().signal;
      const reply = await side.orders!.answer({ name: 'order', slots: { item: 'coffee' } }, signal);
      expect(await reply.offer!.accept(signal)).toMatch(/^Done\. Order .* is placed\.$/);
      expect(events.map((e) => e.state)).toEqual(['placed']);
      expect(configured.orders()).toEqual([]);
    } finally {
      await side.close();
      await configured.close();
    }
  });

  it('refuses a plain-http cloud that is not on loopback', async () => {
    const tokenFile = join(dir, 'token-http');
    writeFileSync(tokenFile, 'x\n', { mode: 0o600 });
    const config = loadConfig({
      env: {},
      overrides: { cloud: { llmBaseUrl: 'http://cloud.example.com/v1', tokenFile } },
    });
    await expect(connectCloud(config, options(false))).rejects.toMatchObject({ code: 'E_CLOUD_INSECURE' });
  });
});
