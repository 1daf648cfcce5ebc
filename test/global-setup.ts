import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** The audio fixtures are generated (espeak-ng, sox), not committed; the script skips when up to date. */
export default function setup(): void {
  execFileSync('bash', [join(import.meta.dirname, '..', 'scripts', 'make-fixtures.sh')], {
    stdio: 'inherit',
  });
}
