/**
 * The composition root (main.ts and compose/) is the only code that builds real devices, sessions,
 * clients, servers and clocks, and the only code that loads the development cloud; the voice loop,
 * the endpointer and the vision service know the detectors by their ports. Read from the imports, so
 * a new shortcut fails here rather than in a bundle.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../firmware-ts/src/paths.js';

const SRC = join(PACKAGE_ROOT, 'firmware-ts', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

interface Import {
  /** Resolved against firmware-ts/src, e.g. `vad/silero.js`; packages as they are written. */
  target: string;
  typeOnly: boolean;
}

/** `import type ...`, or braces holding only `type` names: erased from the JavaScript. */
function isTypeOnly(statement: string): boolean {
  if (/^(?:import|export)\s+type\s/.test(statement)) return true;
  const names = /^(?:import|export)\s+\{([^}]*)\}\s*from/.exec(statement)?.[1];
  return (
    names !== undefined &&
    names
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '')
      .every((n) => n.startsWith('type '))
  );
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const resolve = (spec: string): string =>
    spec.startsWith('.') ? relative(SRC, join(file, '..', spec)) : spec;
  const out: Import[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)';/gm))
    out.push({ target: resolve(m[1]!), typeOnly: isTypeOnly(m[0]) });
  for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g))
    out.push({ target: resolve(m[1]!), typeOnly: false });
  return out;
}

const ROOT = (rel: string): boolean => rel === 'main.ts' || rel.startsWith('compose/');
const files = sources(SRC).map((f) => ({ rel: relative(SRC, f), imports: importsOf(f) }));

describe('the composition root', () => {
  it('is the only code that imports the adapters of devices, sessions and clients', () => {
    // Each adapter's module, and the files besides the root allowed to import it (type imports aside).
    const adapters: Record<string, string[]> = {
      'hal/alsa-mic.js': [],
      'hal/aplay-speaker.js': [],
      'inference/onnx.js': ['wake-train/train/feature-worker.ts'], // a worker thread: a root of its own
      'cloud/orders-client.js': ['cloud/outbox.ts'], // its wire schemas, not a client
      'cloud/outbox.js': ['board/system.ts'], // inspectOutbox: reads the folder for `glasses doctor`
      'cloud/llm.js': [],
      'vision/detector/tfjs.js': ['vision/detector/detector.ts'],
      openai: ['cloud/llm.ts'],
      'onnxruntime-node': ['inference/onnx.ts'],
    };
    const offending = files.flatMap(({ rel, imports }) =>
      ROOT(rel)
        ? []
        : imports
            .filter((i) => !i.typeOnly && i.target in adapters && !adapters[i.target]!.includes(rel))
            .map((i) => `${rel} -> ${i.target}`),
    );
    expect(offending).toEqual([]);
  });

  it('is the only code that reaches the development cloud, and only by a computed dynamic import', () => {
    const offending = files.flatMap(({ rel, imports }) =>
      imports.filter((i) => i.target.startsWith('../dev/')).map((i) => `${rel} -> ${i.target}`),
    );
    expect(offending).toEqual([]);
  });
});

describe('the ports', () => {
  const concrete = ['wake/detector.js', 'vad/endpointer.js', 'vad/silero.js', 'vision/detector/detector.js'];
  it.each([
    ['voice-loop/runner.ts', concrete],
    ['voice-loop/loop-input.ts', concrete],
    ['voice-loop/effects.ts', concrete],
    ['voice-loop/latency.ts', concrete],
    ['vad/endpointer.ts', ['vad/silero.js']],
    [
      'vision/service.ts',
      ['vision/detector/tfjs.js', 'vision/detector/nanodet.js', 'vision/detector/centernet.js'],
    ],
  ])('%s imports no concrete detector, VAD or endpointer', (file, banned) => {
    const imports = files.find((f) => f.rel === file)!.imports;
    expect(imports.filter((i) => banned.includes(i.target)).map((i) => i.target)).toEqual([]);
  });

  it('vision/service.ts knows the object detector by its interface only', () => {
    const imports = files.find((f) => f.rel === 'vision/service.ts')!.imports;
    expect(imports.filter((i) => i.target === 'vision/detector/detector.js' && !i.typeOnly)).toEqual([]);
  });
});
