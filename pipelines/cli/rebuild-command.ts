import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, printable, storeError } from '../../lib/errors.js';
import { readRunDir } from '../../lib/report/read.js';
import { rebuildStore, storeExists } from '../../lib/store/rebuild.js';
import { storePath } from '../../lib/store/store.js';
import { EXIT, fail, warn } from './exit.js';
import { parseOptions } from './options.js';

/** `optbench rebuild <run-dir>`: a new store from the run directory's runs/*.json, where it has none. */
export const rebuildCommand = async (argv: readonly string[]): Promise<number> => {
  const p = parseOptions(argv, {}, { command: 'rebuild', names: ['<run-dir>'] });
  if (E.isLeft(p)) return fail(p.left);
  const dir = p.right.positionals[0];
  if (dir === undefined)
    return fail(invalidConfig({ path: 'run-dir', message: 'Usage: optbench rebuild <run-dir> (a run directory whose optbench.sqlite was moved away).' }));
  const file = storePath(resolve(dir));
  // Checked first: readRunDir would read the store instead of the run records.
  if (existsSync(file)) return fail(storeExists(file));
  const source = readRunDir(resolve(dir));
  if (E.isLeft(source)) return fail(source.left);
  for (const w of source.right.warnings) warn(w);
  if (source.right.runs.length === 0)
    return fail(storeError({ file, message: `${printable(resolve(dir))}/runs holds no run records: there is nothing to rebuild the store from.` }));
  const rebuilt = rebuildStore(file, source.right.runs);
  if (E.isLeft(rebuilt)) return fail(rebuilt.left);
  for (const s of rebuilt.right.skipped) warn(`skipped ${s}`);
  const counts = Object.entries(rebuilt.right.statuses).map(([k, n]) => `${n} ${k}`).join(', ');
  process.stderr.write(`Rebuilt ${file} from ${source.right.runs.length - rebuilt.right.skipped.length} run records: ${counts}.\n`);
  return EXIT.done;
};
