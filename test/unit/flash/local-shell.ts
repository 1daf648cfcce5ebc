/** A RemoteShell that runs the board scripts with the local sh: the ShellBoard's scripts without ssh. */
import { runProcess } from '../../../firmware-ts/src/flash/process.js';
import type { RemoteResult, RemoteRunOptions, RemoteShell } from '../../../firmware-ts/src/flash/shell.js';

export class LocalShell implements RemoteShell {
  readonly label = 'local';

  run(script: string, options: RemoteRunOptions): Promise<RemoteResult> {
    return runProcess('sh', ['-c', script], { ...options, label: this.label });
  }
}
