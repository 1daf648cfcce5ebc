/**
 * The development cloud's entry, the one file the runtime loads (firmware-ts/src/compose/dev-cloud.ts),
 * by a dynamic import, so that bundles can leave this folder out.
 */
import type { DevCloudModule } from '../../src/compose/dev-cloud.js';
import { devCloudCommand } from './command.js';
import { createDevCloud } from './server.js';

export default { createDevCloud, devCloudCommand } satisfies DevCloudModule;
