import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, GlassesError } from '../../firmware-ts/src/errors.js';
import { PACKAGE_ROOT } from '../../firmware-ts/src/paths.js';

describe('error codes', () => {
  const table = readFileSync(join(PACKAGE_ROOT, 'docs', 'errors.md'), 'utf8');

  it.each(Object.keys(ERROR_CODES))('%s is documented in the error table of docs/errors.md', (code) => {
    expect(table).toMatch(new RegExp(`^\\|\\s*\`${code}\`\\s*\\|`, 'm'));
  });

  it('docs/errors.md lists no code that does not exist', () => {
    const listed = [...table.matchAll(/^\|\s*`(E_[A-Z_]+)`\s*\|/gm)].map((m) => m[1]);
    expect(listed.filter((c) => c !== undefined && !(c in ERROR_CODES))).toEqual([]);
  });

  it('every code the runtime names in its source is one of them', () => {
    const src = join(PACKAGE_ROOT, 'firmware-ts', 'src');
    const named = new Set<string>();
    for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts')) continue;
      // A quoted whole code; prefixes such as 'E_FLASH_' end in an underscore and are not codes.
      for (const m of readFileSync(join(src, file), 'utf8').matchAll(/['"`](E_[A-Z0-9_]*[A-Z0-9])['"`]/g))
        named.add(m[1]!);
    }
    expect(named.size).toBeGreaterThan(10);
    expect([...named].filter((c) => !(c in ERROR_CODES))).toEqual([]);
  });

  it('carries code, retryable and details', () => {
    const e = new GlassesError('E_MIC_OPEN', 'microphone hw:9: no such device', {
      details: { device: 'hw:9' },
    });
    expect(e.retryable).toBe(true);
    expect(e.details).toEqual({ device: 'hw:9' });
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      code: 'E_MIC_OPEN',
      message: 'microphone hw:9: no such device',
      retryable: true,
    });
  });
});
