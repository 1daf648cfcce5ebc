/**
 * An outbox entry that cannot be read, through the built CLI: `glasses run` on "order a coffee",
 * "yes" against a configured orders API (a development cloud run by this test) reports it as an
 * `error` event and in the health report, exits 1, tells the wearer and orders nothing; `glasses
 * doctor` fails its outbox row naming the file. The entry may be an order placed today, so no new
 * order may pass a daily limit that leaves it out.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorRow } from '../../../firmware-ts/src/board/doctor.js';
import { createDevCloud, type DevCloud } from '../../../firmware-ts/dev/dev-cloud/server.js';
import type { HealthReport } from '../../../firmware-ts/src/health.js';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';
import type { RunEvent } from '../../../firmware-ts/src/voice-loop/runner.js';
import { glasses } from '../board/cli.js';

const TOKEN = 'damaged-outbox-token-0123456789';
const ORDER_WAV = join(PACKAGE_ROOT, 'test', 'fixtures', 'generated', 'speech', 'cloud', 'order.wav');

const dir = mkdtempSync(join(tmpdir(), 'damaged-outbox-'));
const outbox = join(dir, 'outbox');
// The entry of an order placed earlier today, cut short by a power cut or a full disk.
const damaged = join(outbox, '0b7cbbf3-4f4e-4a8e-9a41-6d2b5e1c9f00.json');
let cloud: DevCloud;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  cloud = await createDevCloud({ token: TOKEN });
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  mkdirSync(outbox, { mode: 0o700 });
  writeFileSync(damaged, '{\n  "version": 1,\n  "key": "0b7cbbf3-4f4e-4a8e-9a41-6d2b5e1c9f00",\n  "requ');
  env = {
    GLASSES_CLOUD__ORDERS_BASE_URL: cloud.url,
    GLASSES_CLOUD__TOKEN_FILE: tokenFile,
    GLASSES_ORDERS__OUTBOX_DIR: outbox,
    GLASSES_HEALTH__FILE: join(dir, 'health.json'),
  };
});

afterAll(async () => {
  await cloud.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an outbox entry that cannot be read', () => {
  it('glasses run: an error event, a health problem, exit 1, the wearer told, nothing ordered', async () => {
    const r = await glasses(
      ['run', '--mic', ORDER_WAV, '--speaker', join(dir, 'said.wav'), '--json', '--log-level', 'silent'],
      env,
    );
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent);
    const errors = events.filter((e): e is Extract<RunEvent, { type: 'error' }> => e.type === 'error');
    expect(errors.map((e) => `${e.code}: ${e.message}`)).toEqual([expect.stringMatching(/^E_OUTBOX: /)]);
    expect(errors[0]).toMatchObject({ atMs: 0, code: 'E_OUTBOX' });
    expect(errors[0]?.message).toContain(damaged);
    expect(r.code).toBe(1);

    const said = events.flatMap((e) => (e.type === 'say' ? [e.text] : []));
    expect(said[0]).toBe(
      "I can't place new orders: an order saved on these glasses can't be read, so I can't check " +
        "today's spending limit. It needs to be looked at.",
    );
    expect(said.filter((t) => t.startsWith("I can't place new orders: an order saved"))).toHaveLength(1);
    expect(events.filter((e) => e.type === 'order')).toEqual([]);
    expect(cloud.orders()).toEqual([]);

    const health = JSON.parse(readFileSync(join(dir, 'health.json'), 'utf8')) as HealthReport;
    expect(health.ok).toBe(false);
    expect(health.problems).toEqual([
      expect.stringMatching(/^E_OUTBOX: outbox .* an entry cannot be read: /),
    ]);
    // Left in place for a person to look at.
    expect(existsSync(damaged)).toBe(true);
  }, 120_000);

  it('glasses doctor: the order outbox row fails, naming the file, with what to do', async () => {
    const r = await glasses(['doctor', '--json'], env);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: DoctorRow[] };
    const row = report.checks.find((c) => c.check === 'order outbox');
    expect(row).toMatchObject({ result: 'fail' });
    expect(row?.detail).toMatch(/^E_OUTBOX: outbox .* an entry cannot be read: /);
    expect(row?.detail).toContain(damaged);
    expect(row?.fix).toMatch(/move the file out of the folder/);
    expect(report.ok).toBe(false);
    expect(r.code).toBe(1);
  }, 120_000);
});
