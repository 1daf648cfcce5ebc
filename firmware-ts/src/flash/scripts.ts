/**
 * The text of the scripts a flash sends to a board: the bundle verifier (bundle/verify.ts) and the
 * board-side helpers in board/. They are standalone modules (node: imports only), so their compiled
 * JavaScript runs there as is. Run from dist/, the .js sits next to this file. Run from the sources
 * (tests, tsx), there is only the .ts: it is transpiled here, with dev tools that an installed bundle
 * does not carry and does not need.
 */
import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GlassesError } from '../errors.js';

const cache = new Map<string, Promise<string>>();

async function standalone(jsUrl: URL): Promise<string> {
  const js = fileURLToPath(jsUrl);
  try {
    return await fs.readFile(js, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tsFile = js.replace(/\.js$/, '.ts');
  let source: string;
  try {
    source = await fs.readFile(tsFile, 'utf8');
  } catch {
    throw new GlassesError('E_FLASH_BUNDLE', `neither ${js} nor ${tsFile} exists; run \`npm run build\``);
  }
  return transpile(source, tsFile);
}

/**
 * Types stripped, nothing else changed. esbuild (it comes with tsx, a dev dependency) does it in
 * milliseconds where loading the TypeScript compiler takes a second or more; the compiler is the
 * fallback.
 */
async function transpile(source: string, file: string): Promise<string> {
  try {
    const esbuild = await import('esbuild');
    return (
      await esbuild.transform(source, { loader: 'ts', format: 'esm', target: 'node20', sourcefile: file })
    ).code;
  } catch {
    const ts = await import('typescript');
    return ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: file,
    }).outputText;
  }
}

function load(relative: string): Promise<string> {
  let text = cache.get(relative);
  if (text === undefined) {
    text = standalone(new URL(relative, import.meta.url));
    cache.set(relative, text);
  }
  return text;
}

/** The verifier run on the board before anything in the new bundle is trusted. */
export const verifierScript = (): Promise<string> => load('../bundle/verify.js');
export const inspectScript = (): Promise<string> => load('./board/inspect.js');
export const activateScript = (): Promise<string> => load('./board/activate.js');
