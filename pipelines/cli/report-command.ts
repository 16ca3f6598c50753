import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig } from '../../lib/errors.js';
import { parseFormats, writeReport } from '../../lib/report/index.js';
import { fail, warn } from './exit.js';
import { list, parseOptions } from './options.js';
import { reportOutDir } from './out-dir.js';

/** `optbench report <run-dir> [--out DIR] [--format html,md,png,svg,csv,tex]`: never retrains, never writes the store. */
export const reportCommand = async (argv: readonly string[]): Promise<number> => {
  const p = parseOptions(argv, { out: { type: 'string' }, format: { type: 'string' }, force: { type: 'boolean' } }, { command: 'report', names: ['<run-dir>'] });
  if (E.isLeft(p)) return fail(p.left);
  const dir = p.right.positionals[0];
  if (dir === undefined)
    return fail(invalidConfig({ path: 'run-dir', message: 'Usage: optbench report <run-dir> [--out DIR] [--format html,md,png,svg,csv,tex].' }));
  // Checked before anything is written; names as the library takes them (any case, commas, repeats).
  const formats = parseFormats(list(p.right.values.format) ?? []);
  if (E.isLeft(formats)) return fail(formats.left);
  const rawOut = p.right.values.out;
  const out = typeof rawOut === 'string' ? reportOutDir(rawOut, p.right.values.force === true) : undefined;
  if (out !== undefined && E.isLeft(out)) return fail(out.left);
  const written = await writeReport(dir, { ...(out !== undefined ? { out: out.right } : {}), formats: formats.right, onWarning: warn });
  if (E.isLeft(written)) return fail(written.left);
  for (const a of written.right) process.stdout.write(`${a.path}\n`);
  return 0;
};
