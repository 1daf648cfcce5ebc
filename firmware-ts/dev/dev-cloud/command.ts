/** `glasses dev-cloud`: the development cloud as a process, with faults by flag. */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createDevCloud } from './server.js';
import type { CommonFaults, DevCloudFaults } from './faults.js';
import { openTokenFile } from '../../src/cloud/security.js';
import { GlassesError, isGlassesError, messageOf } from '../../src/errors.js';
import type { Log } from '../../src/log.js';
import {
  boot,
  COMMON_USAGE,
  numberFlag,
  parse,
  untilInterrupted,
  usageError,
  type Command,
} from '../../src/commands/command.js';

/** The development cloud's port in firmware-ts/api/orders.openapi.yaml `servers`. */
const DEFAULT_PORT = 8787;
const DEFAULT_DIR = '.glasses/dev-cloud';

export const devCloudCommand: Command = {
  name: 'dev-cloud',
  summary: 'a local stand-in for the cloud (chat answers and orders), with faults on demand',
  usage: `Usage: glasses dev-cloud [--port N] [--host ADDR] [--data FILE] [--token-file FILE] [faults]

Serves the Chat Completions subset (POST /v1/chat/completions) and the orders API
(firmware-ts/api/orders.openapi.yaml) on loopback, so the glasses answer and order end to end with
no account. Answers are made up from the request and say so ("Development cloud: ..."). Prints one
JSON line when listening, {"url","tokenFile","data"}; logs one line per request to stderr; stops on
Ctrl-C or SIGTERM. GET /dev/orders lists every order (for people and tests; not part of the API).

Options:
  --port N            default ${DEFAULT_PORT}; 0 picks a free port
  --host ADDR         default 127.0.0.1 (the glasses accept plain http only on loopback)
  --data FILE         orders, kept across restarts (default ${DEFAULT_DIR}/orders.json)
  --token-file FILE   the bearer token requests must carry; created (0600) with a new random token
                      when missing (default ${DEFAULT_DIR}/token)

Faults (latency, 5xx and unauthorized apply to --fault-scope):
  --fault-scope S     chat, orders or both (default both)
  --latency-ms N      wait N ms before the first byte of each response
  --fail-5xx N        503 with Retry-After for the next N requests; a fraction (0.3) fails that share
  --retry-after-s N   the Retry-After of those 503s (default 1)
  --unauthorized      401 for every request
  --drip-ms N         chat: N ms between streamed chunks
  --reset-mid-stream  chat: drop the connection after the first chunk of the answer
  --malformed-events  chat: send a data line that is not JSON mid-stream
  --drop-order-response  orders: place each new order, then drop the connection instead of
                      replying (a retry with the same Idempotency-Key gets the order)
${COMMON_USAGE}`,

  async run({ argv, out }) {
    const { values, positionals } = parse('dev-cloud', argv, {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      'token-file': { type: 'string' },
      'fault-scope': { type: 'string' },
      'latency-ms': { type: 'string' },
      'fail-5xx': { type: 'string' },
      'retry-after-s': { type: 'string' },
      unauthorized: { type: 'boolean' },
      'drip-ms': { type: 'string' },
      'reset-mid-stream': { type: 'boolean' },
      'malformed-events': { type: 'boolean' },
      'drop-order-response': { type: 'boolean' },
    });
    if (values.help === true) {
      out(this.usage);
      return 0;
    }
    if (positionals.length > 0) usage(`unexpected argument "${positionals[0] ?? ''}"`);
    const port = numberFlag('dev-cloud', 'port', values.port, { integer: true, max: 65_535 }) ?? DEFAULT_PORT;
    const host = values.host ?? '127.0.0.1';
    const scope = values['fault-scope'] ?? 'both';
    if (scope !== 'chat' && scope !== 'orders' && scope !== 'both')
      usage(`--fault-scope ${scope}: expected chat, orders or both`);
    const fail5xx = numberFlag('dev-cloud', 'fail-5xx', values['fail-5xx']);
    if (fail5xx !== undefined && fail5xx > 1 && !Number.isInteger(fail5xx))
      usage(`--fail-5xx ${fail5xx}: expected a whole count or a fraction below 1`);
    const common: CommonFaults = {
      latencyMs: numberFlag('dev-cloud', 'latency-ms', values['latency-ms'], { integer: true }),
      status5xx: fail5xx,
      retryAfterS: numberFlag('dev-cloud', 'retry-after-s', values['retry-after-s'], { integer: true }),
      unauthorized: values.unauthorized,
    };
    const faults: DevCloudFaults = {
      chat: {
        ...(scope === 'orders' ? {} : common),
        dripMs: numberFlag('dev-cloud', 'drip-ms', values['drip-ms'], { integer: true }),
        resetMidStream: values['reset-mid-stream'],
        malformedEvents: values['malformed-events'],
      },
      orders: {
        ...(scope === 'chat' ? {} : common),
        dropResponse: values['drop-order-response'],
      },
    };

    const { log } = boot(values);
    const tokenFile = resolve(values['token-file'] ?? `${DEFAULT_DIR}/token`);
    const dataFile = resolve(values.data ?? `${DEFAULT_DIR}/orders.json`);
    const token = await readOrCreateToken(tokenFile, log);
    let cloud;
    try {
      cloud = await createDevCloud({ token, host, port, dataFile, faults, log });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES')
        usage(`cannot listen on ${host}:${port} (${code}); choose another --port or --host`);
      throw new GlassesError('E_USAGE', `glasses dev-cloud: --data ${dataFile}: ${messageOf(err)}`, {
        cause: err,
      });
    }
    if (!/^(?:127\.|::1$|localhost$)/.test(host))
      log.warn({ host }, 'listening beyond loopback: the glasses refuse plain http to other hosts');
    log.info({ url: cloud.url, faults }, 'development cloud listening');
    out(JSON.stringify({ url: cloud.url, tokenFile, data: dataFile }));
    try {
      await untilInterrupted(
        (signal) =>
          new Promise<void>((done) => {
            signal.addEventListener(
              'abort',
              () => {
                done();
              },
              { once: true },
            );
          }),
      );
    } finally {
      await cloud.close();
      log.info('development cloud stopped');
    }
    return 0;
  },
};

function usage(why: string): never {
  throw usageError('dev-cloud', why);
}

/**
 * The token in `file`, or a new random one written there 0600 (as the glasses require of their own
 * token file), so the device and the dev cloud can share one path.
 */
async function readOrCreateToken(file: string, log: Log): Promise<string> {
  let handle;
  try {
    handle = await openTokenFile(file, 'glasses dev-cloud: --token-file');
  } catch (err) {
    if (!isGlassesError(err, 'E_TOKEN_FILE') || err.details.missing !== true) throw err;
    return createToken(file, log);
  }
  let text: string;
  let mode: number;
  try {
    mode = (await handle.stat()).mode;
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  const token = text.trim();
  if (token === '')
    throw new GlassesError('E_TOKEN_FILE', `glasses dev-cloud: --token-file ${file} is empty`);
  if ((mode & 0o077) !== 0)
    log.warn(
      { tokenFile: file },
      'the token file is readable by group or others; the glasses will refuse it',
    );
  return token;
}

async function createToken(file: string, log: Log): Promise<string> {
  const token = randomBytes(24).toString('base64url');
  await fs.mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // 'wx': never overwrite a token another process has just written.
  await fs.writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  log.info({ tokenFile: file }, 'wrote a new development token');
  return token;
}
