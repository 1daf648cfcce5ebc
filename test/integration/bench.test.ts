/** The wake benchmark runs end to end and reports what it promises; its numbers are not judged here. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../firmware-ts/src/paths.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'firmware-ts', 'src', 'cli.js');

describe('glasses bench wake --json', () => {
  it('prints ms per frame, RTF, memory and latency for ours and the peer, with the ratio', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [CLI, 'bench', 'wake', '--json', '--rounds', '1'],
      {
        timeout: 180_000,
      },
    );
    const r = JSON.parse(stdout.trim()) as Record<string, unknown> & { peer: Record<string, unknown> };
    for (const key of [
      'msPerFrame',
      'rtf',
      'rssMb',
      'latencyMs',
      'featuresMsPerFrame',
      'headsMsPerFrame',
      'ratioVsPeer',
    ]) {
      expect(typeof r[key], key).toBe('number');
      expect(r[key] as number, key).toBeGreaterThan(0);
    }
    expect(typeof r.peer.msPerFrame).toBe('number');
    // Both engines find the four phrases in the benchmark audio, or the timings compare nothing.
    expect(r.detected).toBe('4/4');
    expect(r.peer.detected).toBe('4/4');
  }, 200_000);
});
