/**
 * Makes the files package.json's `bin` names executable. tsc writes a new file with mode 0644 (after
 * `rm -rf dist`, say), and `npx glasses` runs the bin itself, so a build that stopped at tsc left a
 * command that failed with "Permission denied". Run by `npm run build`, from the package root.
 */
import { promises as fs } from 'node:fs';

const pkg = JSON.parse(await fs.readFile('package.json', 'utf8')) as {
  bin?: string | Record<string, string>;
};
const bins = typeof pkg.bin === 'string' ? [pkg.bin] : Object.values(pkg.bin ?? {});
try {
  for (const bin of bins) {
    const { mode } = await fs.stat(bin);
    // Execute for whoever may read it, as npm does when it links a bin.
    await fs.chmod(bin, (mode & 0o7777) | ((mode & 0o444) >> 2));
  }
} catch (err) {
  console.error(`bin-executable: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
