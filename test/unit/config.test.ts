import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isConfigured, loadConfig, thresholdFor } from '../../firmware-ts/src/config.js';
import { isGlassesError } from '../../firmware-ts/src/errors.js';

function configError(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isGlassesError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a config error');
}

describe('config', () => {
  it('has defaults for everything and is frozen', () => {
    const c = loadConfig({ env: {} });
    expect(c.wake.phrases).toEqual(['hey_quark']);
    // The default phrase fires at the threshold its training chose (the manifest's): nothing over it.
    expect(c.wake.thresholds).toEqual({});
    expect(thresholdFor(c.wake, 'hey_quark', 0.9995)).toBe(0.9995);
    expect(c.wake.refractoryMs).toBe(2000);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.wake.vadGate)).toBe(true);
    expect(() => {
      (c.wake as { refractoryMs: number }).refractoryMs = 1;
    }).toThrow(TypeError);
  });

  it('reads GLASSES_* variables as nested camelCase keys, JSON values first', () => {
    const c = loadConfig({
      env: {
        GLASSES_WAKE__REFRACTORY_MS: '1500',
        GLASSES_WAKE__PHRASES: '["alexa","hey_jarvis"]',
        GLASSES_WAKE__VAD_GATE__ENABLED: 'true',
        GLASSES_AUDIO__MIC_DEVICE: 'hw:1,0',
        GLASSES_WAKE__THRESHOLDS: '{"alexa":0.7}',
      },
    });
    expect(c.wake.refractoryMs).toBe(1500);
    expect(c.wake.phrases).toEqual(['alexa', 'hey_jarvis']);
    expect(c.wake.vadGate.enabled).toBe(true);
    expect(c.audio.micDevice).toBe('hw:1,0');
    expect(thresholdFor(c.wake, 'alexa')).toBe(0.7);
    expect(thresholdFor(c.wake, 'hey_jarvis')).toBe(0.5);
    // A head's trained threshold counts unless the config names one for it.
    expect(thresholdFor(c.wake, 'hey_quark', 0.93)).toBe(0.93);
    expect(thresholdFor(c.wake, 'alexa', 0.93)).toBe(0.7);
  });

  it('lets the environment override the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'glasses.json');
    writeFileSync(file, JSON.stringify({ wake: { refractoryMs: 900, scoreThreshold: 0.6 } }));
    const c = loadConfig({ env: { GLASSES_CONFIG: file, GLASSES_WAKE__REFRACTORY_MS: '1200' } });
    expect(c.wake.refractoryMs).toBe(1200);
    expect(c.wake.scoreThreshold).toBe(0.6);
  });

  it('names the variable, the value and what was expected', () => {
    const e = configError(() => loadConfig({ env: { GLASSES_WAKE__REFRACTORY_MS: '-5' } }));
    expect(e.code).toBe('E_CONFIG_INVALID');
    expect(e.message).toContain('GLASSES_WAKE__REFRACTORY_MS = -5');
    expect(e.message).toMatch(/>=0/);
  });

  it('names the file and key for a bad value in the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'glasses.json');
    writeFileSync(file, JSON.stringify({ wake: { scoreThreshold: 1.5 } }));
    const e = configError(() => loadConfig({ file, env: {} }));
    expect(e.message).toContain(`${file}: wake.scoreThreshold = 1.5`);
  });

  it('shows a number JSON reads as Infinity as 1e999 gave it, not as null', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'glasses.json');
    writeFileSync(file, '{ "wake": { "refractoryMs": 1e999, "thresholds": { "hey_quark": -1e999 } } }');
    const e = configError(() => loadConfig({ file, env: {} }));
    expect(e.message).toContain(`${file}: wake.refractoryMs = Infinity:`);
    expect(e.message).toContain(`${file}: wake.thresholds.hey_quark = -Infinity:`);
    expect(e.message).not.toContain('= null');
    const env = configError(() => loadConfig({ env: { GLASSES_WAKE__REFRACTORY_MS: '1e999' } }));
    expect(env.message).toContain('GLASSES_WAKE__REFRACTORY_MS = ');
    expect(env.message).not.toContain('= null');
  });

  it('rejects unknown keys from the file and the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'glasses.json');
    writeFileSync(file, JSON.stringify({ wake: { refactoryMs: 10 } }));
    expect(configError(() => loadConfig({ file, env: {} })).message).toContain(
      'wake.refactoryMs: unknown key',
    );
    expect(configError(() => loadConfig({ env: { GLASSES_WAKEUP: '1' } })).message).toContain(
      'GLASSES_WAKEUP: unknown key',
    );
  });

  it('knows which keys were given, from the file, the environment or the command line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'glasses.json');
    writeFileSync(file, JSON.stringify({ camera: { widthPx: 640 } }));
    const c = loadConfig({
      file,
      env: { GLASSES_AUDIO__MIC_DEVICE: 'hw:1,0' },
      overrides: { log: { level: 'warn' } },
    });
    expect(isConfigured(c, 'camera.widthPx')).toBe(true);
    expect(isConfigured(c, 'audio.micDevice')).toBe(true);
    expect(isConfigured(c, 'log.level')).toBe(true);
    // Left to its default, though its parent was given.
    expect(isConfigured(c, 'camera.device')).toBe(false);
    expect(isConfigured(loadConfig({ env: {} }), 'camera.device')).toBe(false);
    // Set to the default value, it is still set: the board says it has that camera.
    const named = loadConfig({ env: { GLASSES_CAMERA__DEVICE: '/dev/video0' } });
    expect(named.camera.device).toBe('/dev/video0');
    expect(isConfigured(named, 'camera.device')).toBe(true);
  });

  it('the battery folder is config, Linux power-supply class by default', () => {
    expect(loadConfig({ env: {} }).battery.powerSupplyDir).toBe('/sys/class/power_supply');
    expect(
      loadConfig({ env: { GLASSES_BATTERY__POWER_SUPPLY_DIR: '/tmp/fake' } }).battery.powerSupplyDir,
    ).toBe('/tmp/fake');
  });

  it('reports an unreadable or malformed file as E_CONFIG_FILE naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ not json');
    expect(configError(() => loadConfig({ file: bad, env: {} }))).toMatchObject({ code: 'E_CONFIG_FILE' });
    expect(configError(() => loadConfig({ file: bad, env: {} })).message).toContain(bad);
    const missing = join(dir, 'missing.json');
    expect(configError(() => loadConfig({ file: missing, env: {} })).message).toContain(missing);
  });
});
