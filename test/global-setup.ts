import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

/**
 * The fixtures are generated, not committed: audio with espeak-ng and sox, vision from Debian's
 * opencv-doc photos and rendered text. Both scripts skip when their outputs are up to date.
 *
 * The run's private folder for what several test files share (test/helpers/shared-build.ts builds
 * the real bundles there on first use): mkdtemp makes it 0700, and it goes when the run ends.
 */
export default function setup(project: TestProject): () => void {
  const root = join(import.meta.dirname, '..');
  execFileSync('bash', [join(root, 'scripts', 'make-fixtures.sh')], { stdio: 'inherit' });
  execFileSync(
    join(root, 'node_modules', '.bin', 'tsx'),
    [join(root, 'scripts', 'make-vision-fixtures.ts')],
    {
      stdio: 'inherit',
    },
  );
  const shared = mkdtempSync(join(tmpdir(), 'glasses-test-run-'));
  project.provide('sharedBuildDir', shared);
  return () => {
    rmSync(shared, { recursive: true, force: true });
  };
}
