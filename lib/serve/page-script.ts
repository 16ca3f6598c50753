/**
 * The page's own script, served as /app.js: the TypeScript of ./page (app.ts and what it imports, checked
 * with the DOM's types by page/tsconfig.json), bundled by esbuild into one classic script. `npm run build`
 * writes it to dist/lib/serve/page/app.js, beside this module's own build, and an installed optbench sends
 * that file; run from the sources (`node --import tsx`), the server bundles the sources itself, once per
 * process, so that what it sends is always what they say.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { ioError, printable, type OptbenchError } from '../errors.js';

/** The page's entry point among the sources, and its bundle in a build. */
const SOURCE = fileURLToPath(new URL('./page/app.ts', import.meta.url));
const BUILT = fileURLToPath(new URL('./page/app.js', import.meta.url));

/**
 * Bundles the page's script from `entry` (a page/app.ts): one IIFE for the browsers the page supports,
 * with no import left. esbuild is a development dependency: an installed optbench never calls this.
 */
export const bundlePageScript = async (entry: string): Promise<string> => {
  const esbuild = await import('esbuild');
  const r = await esbuild.build({
    entryPoints: [entry],
    // The bundle names its modules relative to this (`// section.ts`): the same from the sources and in a build.
    absWorkingDir: dirname(entry),
    bundle: true,
    format: 'iife',
    target: 'es2022',
    platform: 'browser',
    charset: 'utf8',
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  const out = r.outputFiles[0];
  if (out === undefined) throw new Error('esbuild wrote no output');
  return out.text;
};

const load = async (): Promise<E.Either<OptbenchError, string>> => {
  try {
    if (existsSync(BUILT)) return E.right(readFileSync(BUILT, 'utf8'));
    if (existsSync(SOURCE)) return E.right(await bundlePageScript(SOURCE));
    return E.left(ioError({ file: BUILT, message: `The live page's script is missing (${printable(BUILT)}): reinstall optbench, or run 'npm run build' in a checkout.` }));
  } catch (u) {
    const why = u instanceof Error ? u.message : String(u);
    return E.left(ioError({ file: SOURCE, message: `Cannot build the live page's script from ${printable(SOURCE)}: ${printable(why)}` }));
  }
};

let script: Promise<E.Either<OptbenchError, string>> | undefined;

/** The script the page loads, read (or bundled) on the first call; every later server in the process sends the same. */
export const pageScript = (): Promise<E.Either<OptbenchError, string>> => (script ??= load());
