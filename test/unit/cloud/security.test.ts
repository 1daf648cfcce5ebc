/**
 * Where a cloud client may connect, and how the device token must be kept: real temp files, real
 * modes.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  constants,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCloudUrl, isLoopbackHost, readDeviceToken } from '../../../firmware-ts/src/cloud/security.js';
import { GlassesError } from '../../../firmware-ts/src/errors.js';

function thrown(fn: () => unknown): GlassesError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GlassesError) return err;
    throw err;
  }
  throw new Error('expected a GlassesError');
}

async function rejected(p: Promise<unknown>): Promise<GlassesError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GlassesError) return err;
    throw err;
  }
  throw new Error('expected a GlassesError');
}

describe('checkCloudUrl', () => {
  const env = {};

  it.each([
    'https://dashscope.aliyuncs.com/compatible-mode/v1',
    'https://api.openai.com/v1',
    'http://127.0.0.1:11434/v1',
    'http://127.8.9.10/v1',
    'http://localhost:8080/v1',
    'http://[::1]:8000/v1',
    'http://[::ffff:127.0.0.1]:8000/v1',
  ])('accepts %s', (url) => {
    expect(checkCloudUrl(url, 'cloud.llmBaseUrl', env).href).toBe(new URL(url).href);
  });

  it.each([
    ['http://example.com/v1', 'example.com'],
    ['http://192.168.1.20:11434/v1', '192.168.1.20'],
    ['http://localhost.example.com/v1', 'localhost.example.com'],
    ['http://[::2]/v1', '[::2]'],
    ['http://128.0.0.1/v1', '128.0.0.1'],
  ])('refuses plain http to %s, naming the host and the key', (url, host) => {
    const err = thrown(() => checkCloudUrl(url, 'cloud.ordersBaseUrl', env));
    expect(err.code).toBe('E_CLOUD_INSECURE');
    expect(err.message).toContain(host);
    expect(err.message).toContain('cloud.ordersBaseUrl');
  });

  it('refuses other schemes', () => {
    expect(thrown(() => checkCloudUrl('ftp://127.0.0.1/x', 'cloud.llmBaseUrl', env)).code).toBe(
      'E_CLOUD_INSECURE',
    );
  });

  it('never repeats credentials or query keys from the URL', () => {
    const err = thrown(() => checkCloudUrl('http://user:hunter2@example.com/v1?key=abc123', 'k', env));
    expect(err.message).not.toMatch(/hunter2|abc123/);
  });

  it('says a value that is not a URL is a config error', () => {
    expect(thrown(() => checkCloudUrl('not a url', 'cloud.llmBaseUrl', env)).code).toBe('E_CONFIG_INVALID');
  });

  it('refuses when certificate checks are turned off, even for a good URL', () => {
    const err = thrown(() =>
      checkCloudUrl('https://api.openai.com/v1', 'cloud.llmBaseUrl', { NODE_TLS_REJECT_UNAUTHORIZED: '0' }),
    );
    expect(err.code).toBe('E_CLOUD_INSECURE');
    expect(err.message).toContain('NODE_TLS_REJECT_UNAUTHORIZED=0');
    expect(err.message).toContain('cloud.llmBaseUrl');
    expect(() =>
      checkCloudUrl('https://api.openai.com/v1', 'k', { NODE_TLS_REJECT_UNAUTHORIZED: '1' }),
    ).not.toThrow();
  });

  it('knows loopback hosts', () => {
    expect(isLoopbackHost('LOCALHOST')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('::ffff:7f00:1')).toBe(true);
    expect(isLoopbackHost('::ffff:c0a8:1')).toBe(false);
    expect(isLoopbackHost('127.example.com')).toBe(false);
  });
});

describe('readDeviceToken', () => {
  const dir = mkdtempSync(join(tmpdir(), 'token-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const TOKEN = 'dev-3f9c2a7b1e5d4c6a';

  function tokenFile(name: string, content: string, mode: number): string {
    const file = join(dir, name);
    writeFileSync(file, content);
    chmodSync(file, mode);
    return file;
  }

  it('reads an owner-only token file, trimmed', async () => {
    expect(await readDeviceToken(tokenFile('ok', `${TOKEN}\n`, 0o600))).toBe(TOKEN);
    expect(await readDeviceToken(tokenFile('ro', TOKEN, 0o400))).toBe(TOKEN);
  });

  it('follows a symbolic link and checks the file it points at', async () => {
    const target = tokenFile('target', TOKEN, 0o600);
    const link = join(dir, 'link');
    symlinkSync(target, link);
    expect(await readDeviceToken(link)).toBe(TOKEN);
    chmodSync(target, 0o644);
    expect((await rejected(readDeviceToken(link))).code).toBe('E_TOKEN_FILE');
  });

  it.each([0o644, 0o640, 0o604, 0o660, 0o610])(
    'refuses mode %o, naming the file, the mode and the fix',
    async (mode) => {
      const file = tokenFile(`open-${mode.toString(8)}`, TOKEN, mode);
      const err = await rejected(readDeviceToken(file));
      expect(err.code).toBe('E_TOKEN_FILE');
      expect(err.message).toContain(file);
      expect(err.message).toContain(`0${mode.toString(8)}`);
      expect(err.message).toContain(`chmod 600 ${file}`);
      expect(err.message).not.toContain(TOKEN);
    },
  );

  it('refuses a missing file, an unset path, a directory, an empty file', async () => {
    const missing = join(dir, 'missing');
    const cases = [missing, '', dir, tokenFile('empty', ' \n', 0o600)];
    mkdirSync(join(dir, 'sub'), { mode: 0o700 });
    cases.push(join(dir, 'sub'));
    for (const file of cases) {
      const err = await rejected(readDeviceToken(file));
      expect(err.code).toBe('E_TOKEN_FILE');
    }
    expect((await rejected(readDeviceToken(missing))).message).toContain(`${missing} does not exist`);
  });

  it('refuses a named pipe at once, saying so, where opening it would wait for a writer forever', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    const started = performance.now();
    const timeout = new Promise<'hung'>((resolve) =>
      setTimeout(() => {
        resolve('hung');
      }, 2000).unref(),
    );
    try {
      const outcome = await Promise.race([rejected(readDeviceToken(fifo)), timeout]);
      expect(outcome).not.toBe('hung');
      expect(outcome).toMatchObject({ code: 'E_TOKEN_FILE' });
      expect((outcome as GlassesError).message).toBe(
        `device token file ${fifo} is not a regular file: it is a named pipe (FIFO)`,
      );
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      // A reader still blocked in open(2) holds a thread of libuv's pool: a writer releases it.
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // ENXIO: nobody is reading, as it should be.
      }
    }
  });

  it('refuses a token with spaces or line breaks inside, without quoting it', async () => {
    const file = tokenFile('two-lines', `${TOKEN}\nsecond-${TOKEN}\n`, 0o600);
    const err = await rejected(readDeviceToken(file));
    expect(err.code).toBe('E_TOKEN_FILE');
    expect(err.message).not.toContain(TOKEN);
  });
});
