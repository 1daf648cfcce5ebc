/**
 * The rules every cloud client follows before it sends anything: where it may connect (https, or
 * plain http only to this machine) and how the device token is kept (a file only its owner can read).
 * Shared by the language-model client and the orders client.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { GlassesError, messageOf } from '../errors.js';

/**
 * The parsed URL, or E_CLOUD_INSECURE. Plain http is allowed only to loopback (the development cloud,
 * a local Ollama or llama.cpp), where nothing crosses a network. `what` is the config key the URL came
 * from, so the message says what to change. Only the host is named: a URL can carry credentials or
 * keys in its user part or query.
 */
export function checkCloudUrl(url: string, what: string, env: NodeJS.ProcessEnv = process.env): URL {
  // Node reads this once for every TLS socket of the process: with it set, any certificate is
  // accepted and the device token goes to whoever answers. It is refused rather than warned about.
  if (env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
    throw new GlassesError(
      'E_CLOUD_INSECURE',
      `NODE_TLS_REJECT_UNAUTHORIZED=0 turns off certificate checks for every HTTPS connection, so ${what} ` +
        'cannot be used safely. Unset it; for a server with its own certificate authority, point ' +
        'NODE_EXTRA_CA_CERTS at that CA certificate instead.',
      { details: { field: what, env: 'NODE_TLS_REJECT_UNAUTHORIZED' } },
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new GlassesError('E_CONFIG_INVALID', `${what} is not a URL (expected https://host/path)`, {
      details: { field: what },
      cause: err,
    });
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)) return parsed;
  const scheme = parsed.protocol.replace(/:$/, '');
  throw new GlassesError(
    'E_CLOUD_INSECURE',
    parsed.protocol === 'http:'
      ? `${what} uses plain http to ${parsed.hostname}, which is not this machine: the device token and ` +
          'what the wearer asks would cross the network unencrypted. Use https.'
      : `${what} uses ${scheme}:// (host ${parsed.hostname || 'none'}); only https (or http to loopback) is allowed.`,
    { details: { field: what, host: parsed.hostname, protocol: scheme } },
  );
}

/** 127.0.0.0/8, ::1 (and ::ffff:127.x.x.x) and `localhost`: addresses that never leave the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  // Only the bare name: `localhost.` or `x.localhost` depend on the resolver.
  if (host === 'localhost') return true;
  if (isIPv4(host)) return host.startsWith('127.');
  if (!isIPv6(host)) return false;
  if (host === '::1') return true;
  // WHATWG URL writes ::ffff:127.0.0.1 as ::ffff:7f00:1.
  const mapped = /^::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(host);
  return mapped?.[1] !== undefined && parseInt(mapped[1], 16) >> 8 === 127;
}

/** A bearer token goes into an HTTP header: visible ASCII only, so no header error can echo it. */
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

/**
 * `file` opened for reading, once it is known to be a regular file; E_TOKEN_FILE (naming it as
 * `what`) when it is missing, unreadable or something else. O_NONBLOCK: opening a FIFO for reading
 * blocks until a writer comes, so a FIFO at the path would hang the start with no word; this way it
 * opens at once and is refused. Symbolic links are followed (secret stores mount them so); the
 * file checked is the target, on the open handle, so it cannot be swapped after the check.
 */
export async function openTokenFile(file: string, what: string): Promise<FileHandle> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${messageOf(err)})`;
    throw new GlassesError('E_TOKEN_FILE', `${what} ${file} ${why}`, {
      details: { file, ...(code === 'ENOENT' ? { missing: true } : {}) },
      cause: err,
    });
  }
  const stat = await handle.stat().catch(async (err: unknown) => {
    await handle.close();
    throw err;
  });
  if (!stat.isFile()) {
    await handle.close();
    const kind = stat.isFIFO()
      ? 'a named pipe (FIFO)'
      : stat.isDirectory()
        ? 'a directory'
        : stat.isSocket()
          ? 'a socket'
          : 'a device';
    throw new GlassesError('E_TOKEN_FILE', `${what} ${file} is not a regular file: it is ${kind}`, {
      details: { file },
    });
  }
  return handle;
}

/**
 * The device token (also the language model's API key), trimmed. E_TOKEN_FILE when the file is not
 * set, missing, not a regular file, empty, or when group or others may read it. The mode is checked on
 * the open file, so it cannot be swapped between the check and the read. The token itself never
 * appears in a message.
 */
export async function readDeviceToken(file: string): Promise<string> {
  if (file === '') {
    throw new GlassesError('E_TOKEN_FILE', 'no device token file is set (cloud.tokenFile)', {
      details: { field: 'cloud.tokenFile' },
    });
  }
  const handle = await openTokenFile(file, 'device token file');
  try {
    const stat = await handle.stat();
    const mode = stat.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      const octal = mode.toString(8).padStart(4, '0');
      throw new GlassesError(
        'E_TOKEN_FILE',
        `device token file ${file} has mode ${octal}: group or others can access it. ` +
          `Run: chmod 600 ${file}`,
        { details: { file, mode: octal } },
      );
    }
    const token = (await handle.readFile('utf8')).trim();
    if (token === '') {
      throw new GlassesError('E_TOKEN_FILE', `device token file ${file} is empty`, { details: { file } });
    }
    if (!TOKEN_CHARS.test(token)) {
      throw new GlassesError(
        'E_TOKEN_FILE',
        `device token file ${file} holds spaces, line breaks or non-ASCII characters inside the token; ` +
          'it should hold the token alone, on one line',
        { details: { file } },
      );
    }
    return token;
  } finally {
    await handle.close();
  }
}
