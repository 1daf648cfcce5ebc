/**
 * A board as `--board` names it: `[user@]host[:port]`, with `[addr]` for an IPv6 address. The host may
 * be an alias from the user's ssh config; ssh resolves it, so nothing here looks the name up.
 */
import { GlassesError } from '../errors.js';

export interface BoardTarget {
  /** As the user wrote it: the name in progress lines and the summary. */
  label: string;
  user?: string;
  host: string;
  port?: number;
}

export function parseBoardTarget(spec: string): BoardTarget {
  const bad = (why: string): never => {
    throw new GlassesError('E_USAGE', `glasses flash: --board ${spec}: ${why} (expected user@host[:port])`);
  };
  const at = spec.lastIndexOf('@');
  const user = at >= 0 ? spec.slice(0, at) : undefined;
  const rest = at >= 0 ? spec.slice(at + 1) : spec;
  if (user === '') bad('empty user');
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) bad('unclosed [');
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) bad(`unexpected "${after}"`);
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const colon = rest.indexOf(':');
    host = colon >= 0 ? rest.slice(0, colon) : rest;
    portText = colon >= 0 ? rest.slice(colon + 1) : undefined;
  }
  // A leading '-' would reach ssh as an option.
  if (host === '' || host.startsWith('-') || /\s/.test(host)) bad('no usable host');
  if (user !== undefined && (user.startsWith('-') || /[\s@]/.test(user))) bad('bad user name');
  let port: number | undefined;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65_535) bad(`port "${portText}" is not 1..65535`);
  }
  return {
    label: spec,
    host,
    ...(user === undefined ? {} : { user }),
    ...(port === undefined ? {} : { port }),
  };
}
