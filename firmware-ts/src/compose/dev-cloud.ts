/**
 * The development cloud, as the runtime sees it. It is a development tool (firmware-ts/dev/dev-cloud)
 * that bundles leave out, so the runtime never imports it statically, not even its types: it is
 * loaded here, by the composition root, only for the runs that use it (the demo, file runs and
 * --dev-cloud with an empty cloud URL, `glasses dev-cloud`, `glasses bench cloud`). Without it those
 * fail with E_DEV_CLOUD_ABSENT; every other run never touches it.
 */
import type { Command } from '../commands/command.js';
import { GlassesError, messageOf } from '../errors.js';
import type { Log } from '../log.js';

/** What the runtime uses of a running development cloud. */
export interface EmbeddedDevCloud {
  /** http://host:port, no trailing slash: the orders API's base URL. */
  readonly url: string;
  /** `${url}/v1`: the base URL an OpenAI client takes. */
  readonly llmBaseUrl: string;
  close(): Promise<void>;
}

/** What firmware-ts/dev/dev-cloud/index.ts exports by default (checked there with `satisfies`). */
export interface DevCloudModule {
  /** Starts it in this process on loopback, on a free port, orders in memory. */
  createDevCloud: (options: { token: string; log?: Log }) => Promise<EmbeddedDevCloud>;
  /** `glasses dev-cloud`. */
  devCloudCommand: Command;
}

/**
 * Relative to this file, in the source tree and in dist alike; a variable, so that TypeScript does not
 * follow it and compile the tool into a bundle.
 */
export const DEV_CLOUD_ENTRY = new URL('../../dev/dev-cloud/index.js', import.meta.url);

/** E_DEV_CLOUD_ABSENT for `what`, the run that needed the development cloud. */
export function devCloudAbsent(what: string, cause?: unknown): GlassesError {
  return new GlassesError(
    'E_DEV_CLOUD_ABSENT',
    `${what} needs the development cloud, and this installation has none (bundles leave out firmware-ts/dev): ` +
      'set cloud.llmBaseUrl and cloud.ordersBaseUrl to a real cloud, or run it from a source checkout',
    { details: { file: DEV_CLOUD_ENTRY.pathname }, ...(cause === undefined ? {} : { cause }) },
  );
}

/**
 * Loads the development cloud for `what` (named in the error). Only its absence is E_DEV_CLOUD_ABSENT:
 * a module that is there but fails to load is a bug to see as it is.
 */
export async function loadDevCloud(what: string, entry: URL = DEV_CLOUD_ENTRY): Promise<DevCloudModule> {
  let loaded: { default?: Partial<DevCloudModule> };
  try {
    loaded = (await import(entry.href)) as { default?: Partial<DevCloudModule> };
  } catch (err) {
    const missing =
      (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' &&
      messageOf(err).includes(entry.pathname.replace(/\.js$/, ''));
    if (missing) throw devCloudAbsent(what, err);
    throw err;
  }
  const { createDevCloud, devCloudCommand } = loaded.default ?? {};
  if (typeof createDevCloud !== 'function' || devCloudCommand === undefined)
    throw new Error(`${entry.pathname} does not export createDevCloud and devCloudCommand`);
  return { createDevCloud, devCloudCommand };
}

/** `glasses dev-cloud`, listed in every installation; it loads the tool when it runs. */
export const devCloudCommand: Command = {
  name: 'dev-cloud',
  summary: 'a local stand-in for the cloud (chat answers and orders), with faults on demand',
  usage: 'Usage: glasses dev-cloud [options] (its options: glasses dev-cloud --help, in a source checkout)',
  async run(ctx) {
    return (await loadDevCloud('glasses dev-cloud')).devCloudCommand.run(ctx);
  },
};
