/** The doctor's port on the real system: /proc, PATH, statfs, child processes and the models manifest. */
import { constants, promises as fs } from 'node:fs';
import { delimiter, join } from 'node:path';
import { isGlassesError, messageOf } from '../errors.js';
import { loadManifest, verifiedModelPath } from '../models/manifest.js';
import { runChild } from '../util/child.js';
import { inspectOutbox } from '../cloud/outbox.js';
import type { CommandOutcome, DiskSpace, DoctorPort, ModelFileCheck, OutboxCheck } from './doctor.js';

/** arecord and aplay give up on a missing device at once; a hung driver must not hang the doctor. */
const COMMAND_DEADLINE_MS = 5000;

export class SystemPort implements DoctorPort {
  readonly arch = process.arch;

  constructor(
    private readonly modelsDir: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async readText(path: string): Promise<string | undefined> {
    try {
      return await fs.readFile(path, 'utf8');
    } catch {
      return undefined;
    }
  }

  async run(command: string, args: readonly string[], input?: Buffer): Promise<CommandOutcome> {
    const deadline = AbortSignal.timeout(COMMAND_DEADLINE_MS);
    const outcome = await runChild(command, args, {
      signal: deadline,
      stderrTail: 4000,
      ...(input === undefined ? {} : { input }),
    });
    switch (outcome.kind) {
      case 'aborted':
        return { kind: 'timeout' };
      case 'failed-to-start':
        return (outcome.error as NodeJS.ErrnoException).code === 'ENOENT'
          ? { kind: 'missing' }
          : { kind: 'exited', code: null, stdout: Buffer.alloc(0), stderr: outcome.error.message };
      case 'exited':
        return { kind: 'exited', code: outcome.code, stdout: outcome.stdout, stderr: outcome.stderr };
    }
  }

  async findExecutable(name: string): Promise<string | undefined> {
    for (const dir of (this.env.PATH ?? '').split(delimiter)) {
      if (dir === '') continue;
      const file = join(dir, name);
      try {
        await fs.access(file, constants.X_OK);
        if ((await fs.stat(file)).isFile()) return file;
      } catch {
        // not in this folder
      }
    }
    return undefined;
  }

  async statfs(path: string): Promise<DiskSpace | undefined> {
    try {
      const s = await fs.statfs(path);
      // bavail, not bfree: what an unprivileged service may still write.
      return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
    } catch {
      return undefined;
    }
  }

  async access(path: string): Promise<'readable' | 'missing' | 'unreadable'> {
    try {
      await fs.access(path, constants.R_OK);
      return 'readable';
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
    }
  }

  async inspectOutbox(dir: string): Promise<OutboxCheck | undefined> {
    const seen = await inspectOutbox(dir);
    if (seen === undefined) return undefined;
    const { entries, damage } = seen;
    return damage === undefined
      ? { entries }
      : { entries, damage: { count: Number(damage.details.count), message: damage.message } };
  }

  async checkModelFiles(): Promise<ModelFileCheck[]> {
    const manifest = await loadManifest(this.modelsDir);
    const out: ModelFileCheck[] = [];
    for (const entry of manifest.models) {
      try {
        await verifiedModelPath(this.modelsDir, entry);
        out.push({ name: entry.name });
      } catch (err) {
        if (!isGlassesError(err)) throw err;
        out.push({ name: entry.name, problem: `${err.code} (${messageOf(err)})` });
      }
    }
    return out;
  }
}
