/**
 * npm reads the project's settings without complaint, and onnxruntime-node's install script (which
 * only fetches CUDA files for linux-x64 from outside the registries) is denied by package.json's
 * allowScripts, npm's own policy, not by a setting npm does not know: `onnxruntime-node-install=skip`
 * in .npmrc made every npm command warn `Unknown project config`, and npm's next major ignores it.
 * `npm ci` in a scratch clone was checked by hand: no warning, no download from api.nuget.org.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';

describe('npm and the project', () => {
  it('prints no warning about the project config', async () => {
    // npm run passes its settings on as npm_config_*; the child must read only the project's.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    const { stderr } = await promisify(execFile)('npm', ['pkg', 'get', 'name'], { cwd: PACKAGE_ROOT, env });
    expect(stderr).not.toMatch(/Unknown (project|env|user) config/);
  });

  it('denies onnxruntime-node its install script, and reviews every other one', () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
      allowScripts?: Record<string, boolean>;
    };
    expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
    const lock = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript === true)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(withScripts.filter((name) => pkg.allowScripts?.[name] === undefined)).toEqual([]);
    expect(existsSync(join(PACKAGE_ROOT, '.npmrc'))).toBe(false);
  });
});
