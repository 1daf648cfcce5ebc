/**
 * The whole loop on the embedded default: the bundled scenario (espeak-ng requests) through the real
 * wake engine, Silero endpointer, pocketsphinx, responder, espeak-ng, a timeline speaker, the demo
 * camera's photos and the development cloud started in the process (language model and orders).
 *
 * An orders API is configured, as docs/cloud.md's command for pointing the glasses at a cloud does: a
 * real one (a development cloud run by this test) that would take any order sent to it. The demo's
 * scripted "yes" must never reach it: its orders go to its own development cloud and outbox.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevCloud, type DevCloud } from '../../../firmware-ts/dev/dev-cloud/server.js';
import type { HealthReport } from '../../../firmware-ts/src/health.js';
import { PACKAGE_ROOT, PACKAGE_VERSION } from '../../../firmware-ts/src/paths.js';
import type { RunEvent } from '../../../firmware-ts/src/voice-loop/runner.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'firmware-ts', 'src', 'cli.js');
const root = mkdtempSync(join(tmpdir(), 'demo-'));
// A folder the run makes itself, as it makes .demo/.
const out = join(root, 'out');
const configuredOutbox = join(root, 'configured-outbox');
let configured: DevCloud;
let events: RunEvent[] = [];

beforeAll(async () => {
  configured = await createDevCloud({ token: 'configured-orders-token' });
  const tokenFile = join(root, 'token');
  writeFileSync(tokenFile, 'configured-orders-token\n', { mode: 0o600 });
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [CLI, 'run', '--demo', '--json', '--out', out, '--log-level', 'warn'],
    {
      timeout: 170_000,
      maxBuffer: 16 * 2 ** 20,
      env: {
        ...process.env,
        GLASSES_HEALTH__FILE: join(out, 'health.json'),
        GLASSES_CLOUD__ORDERS_BASE_URL: configured.url,
        GLASSES_CLOUD__TOKEN_FILE: tokenFile,
        GLASSES_ORDERS__OUTBOX_DIR: configuredOutbox,
      },
    },
  );
  events = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunEvent);
}, 180_000);

afterAll(async () => {
  await configured.close();
});

const of = <T extends RunEvent['type']>(type: T): Extract<RunEvent, { type: T }>[] =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

describe('glasses run --demo (the bundled scenario)', () => {
  it('keeps what the wearer heard and bought to its user: 0600 files in 0700 folders', () => {
    const modes = Object.fromEntries(
      (readdirSync(out, { recursive: true }) as string[])
        // The health report holds nothing of the wearer's and is read by `glasses flash` (see health.ts).
        .filter((p) => p !== 'health.json')
        .map((p) => {
          const st = statSync(join(out, p));
          return [p, (st.mode & 0o777).toString(8)];
        }),
    );
    expect(Object.keys(modes)).toEqual(
      expect.arrayContaining(['conversation.wav', 'answer-01.wav', 'outbox']),
    );
    const wanted = Object.fromEntries(
      Object.keys(modes).map((p) => [p, statSync(join(out, p)).isDirectory() ? '700' : '600']),
    );
    expect({ '.': (statSync(out).mode & 0o777).toString(8), ...modes }).toEqual({ '.': '700', ...wanted });
  });

  it('hears the wake phrase each time it is said', () => {
    expect(of('wake').filter((w) => !w.echo)).toHaveLength(8);
  });

  it('understands the commands, in order, and treats the open question as one', () => {
    const commands = of('intent').filter((i) => i.purpose === 'command');
    expect(commands.map((i) => i.name)).toEqual([
      'time',
      'battery',
      'help',
      'louder',
      'identify',
      'price',
      'buy',
      'yes',
      'order',
      'yes',
      'order_status',
      'open_question',
    ]);
    expect(commands.find((i) => i.name === 'open_question')?.accepted).toBe(false);
  });

  it('answers on the device, the open question from the cloud, and says when nothing was heard', () => {
    const said = of('say').map((s) => s.text);
    expect(said[0]).toMatch(/^It's \d+ /);
    expect(said).toContainEqual(expect.stringMatching(/battery/i));
    expect(said).toContainEqual(expect.stringMatching(/^Volume 8 of 10/));
    const open = of('intent').find((i) => i.name === 'open_question');
    const answer = of('say').find((s) => s.turnId === open?.turnId);
    expect(answer?.source).toBe('answer-source');
    expect(answer?.text).toMatch(/^Development cloud: /);
    expect(said[said.length - 1]).toBe("I didn't hear anything.");
  });

  it('buys what the camera saw, and orders a coffee, each only after "yes", with one order event each', () => {
    const said = of('say').map((s) => s.text);
    const offers = said.filter((t) => /Say yes to (buy|order) it\.$/.test(t));
    expect(offers).toHaveLength(2);
    expect(offers[0]).toMatch(/^The best match is .*oranges.*, \d+ yuan( \d+)?, from /);
    expect(offers[1]).toMatch(/^I can order .* from .* for \d+ yuan/);
    const orders = of('order');
    expect(orders.map((o) => [o.state, o.status])).toEqual([
      ['placed', 'placed'],
      ['placed', 'placed'],
    ]);
    expect(new Set(orders.map((o) => o.orderId)).size).toBe(2);
    // Each order event comes at its "yes", never at the offer.
    const yeses = of('intent').filter((i) => i.name === 'yes');
    expect(orders.map((o) => o.atMs)).toEqual(yeses.map((y) => y.atMs));
    for (const o of orders) {
      expect(said).toContain(
        `Done. Order ${o.orderId.slice(-4).toUpperCase().split('').join(' ')} is placed.`,
      );
    }
    expect(said).toContainEqual(expect.stringMatching(/^Your order of .* is placed/));
  });

  it('sends none of them to the configured orders API, nor writes them to the configured outbox', () => {
    expect(of('order')).toHaveLength(2);
    expect(configured.orders()).toEqual([]);
    expect(existsSync(configuredOutbox) ? readdirSync(configuredOutbox) : []).toEqual([]);
    expect(readdirSync(join(out, 'outbox')).filter((f) => f.endsWith('.json'))).toHaveLength(2);
  });

  it('looks through the demo camera: names what it sees, then reads the price on the label', () => {
    const said = of('say').map((s) => s.text);
    expect(said).toContainEqual(expect.stringMatching(/(That's|It might be) an? (orange|apple|banana)/));
    expect(said).toContain("It's 12 yuan 50.");
    const price = of('intent').find((i) => i.name === 'price');
    expect(price?.turnId).toBe(of('intent').find((i) => i.name === 'identify')?.turnId);
  });

  it('asks "battery" in the follow-up window, without the wake phrase', () => {
    const battery = of('intent').find((i) => i.name === 'battery');
    expect(battery?.turnId).toBe(of('intent').find((i) => i.name === 'time')?.turnId);
  });

  it('the wake phrase during the long help answer interrupts it (barge-in)', () => {
    const help = of('say').find((s) => s.text.startsWith('I can tell you'));
    expect(help?.completed).toBe(false);
  });

  it('ends idle, with no error, and writes the answers as WAV files', () => {
    const states = of('state');
    expect(states[states.length - 1]?.to).toBe('idle');
    expect(of('error')).toEqual([]);
    expect(existsSync(join(out, 'conversation.wav'))).toBe(true);
    expect(existsSync(join(out, 'answer-01.wav'))).toBe(true);
  });

  it('reports how long the device took from the end of speech to the first audio of a reply', () => {
    const first = of('say').find((s) => s.firstAudioMs !== undefined);
    expect(first?.firstAudioMs).toBeGreaterThan(0);
  });
});

describe('the health report of a run (health.file)', () => {
  it('names the version and process, says the models loaded, and that the loop has stopped', () => {
    const report = JSON.parse(readFileSync(join(out, 'health.json'), 'utf8')) as HealthReport;
    expect(report).toMatchObject({
      version: PACKAGE_VERSION,
      modelsLoaded: true,
      micOpen: false,
      loopRunning: false,
      ok: false,
      problems: [],
    });
    expect(report.pid).toBeGreaterThan(0);
    expect(report.atMs).toBeGreaterThanOrEqual(report.startedAtMs);
  });
});
