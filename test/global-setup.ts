import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The fixtures are generated, not committed: audio with espeak-ng and sox, vision from Debian's
 * opencv-doc photos and rendered text. Both scripts skip when their outputs are up to date.
 */
export default function setup(): void {
  const root = join(import.meta.dirname, '..');
  execFileSync('bash', [join(root, 'scripts', 'make-fixtures.sh')], { stdio: 'inherit' });
  execFileSync(
    join(root, 'node_modules', '.bin', 'tsx'),
    [join(root, 'scripts', 'make-vision-fixtures.ts')],
    {
      stdio: 'inherit',
    },
  );
}
