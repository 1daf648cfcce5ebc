/** The development cloud is loaded only by the composition root, and its absence is a coded error. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createVoiceLoop } from '../../../firmware-ts/src/main.js';
import { DEV_CLOUD_ENTRY, loadDevCloud } from '../../../firmware-ts/src/compose/dev-cloud.js';
import { loadConfig } from '../../../firmware-ts/src/config.js';
import { silentLogger } from '../../../firmware-ts/src/log.js';
import { SimulatedClock } from '../../../firmware-ts/src/hal/clock.js';

const dir = mkdtempSync(join(tmpdir(), 'dev-cloud-load-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
/** Where the entry would be in an installation without firmware-ts/dev (a bundle). */
const absent = pathToFileURL(join(dir, 'dev', 'dev-cloud', 'index.js'));

describe('loadDevCloud', () => {
  it('loads the development cloud from firmware-ts/dev in a source checkout', async () => {
    expect(DEV_CLOUD_ENTRY.pathname).toMatch(/\/firmware-ts\/dev\/dev-cloud\/index\.js$/);
    const dev = await loadDevCloud('a test');
    expect(dev.devCloudCommand.name).toBe('dev-cloud');
    const cloud = await dev.createDevCloud({ token: 't' });
    try {
      expect(cloud.llmBaseUrl).toBe(`${cloud.url}/v1`);
    } finally {
      await cloud.close();
    }
  });

  it('where it is absent: E_DEV_CLOUD_ABSENT naming the run that needed it and what to do instead', async () => {
    await expect(loadDevCloud('the demo', absent)).rejects.toMatchObject({
      code: 'E_DEV_CLOUD_ABSENT',
      retryable: false,
      message: expect.stringMatching(/^the demo needs the development cloud.*cloud\.llmBaseUrl/) as string,
    });
  });

  it('a voice loop that needs it fails with E_DEV_CLOUD_ABSENT before anything is opened', async () => {
    const config = loadConfig({ env: {}, overrides: { models: { dir: join(dir, 'no-models') } } });
    const never = (): never => {
      throw new Error('not reached');
    };
    await expect(
      createVoiceLoop(config, silentLogger(), {
        mic: { name: 'none', chunks: never },
        speaker: { name: 'none', play: never, close: never },
        pace: 'file',
        clock: new SimulatedClock(),
        onEvent: () => undefined,
        cloud: { mode: 'demo', outboxDir: join(dir, 'outbox') },
        devCloudEntry: absent,
      }),
    ).rejects.toMatchObject({ code: 'E_DEV_CLOUD_ABSENT' });
  });
});
