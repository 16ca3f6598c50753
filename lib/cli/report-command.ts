import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, printable } from '../errors.js';
import { isOneOf } from '../one-of.js';
import { FORMATS, writeReport } from '../report/index.js';
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
  const formats = list(p.right.values.format) ?? [...FORMATS];
  const isFormat = isOneOf(FORMATS);
  const bad = formats.find((f) => !isFormat(f));
  if (bad !== undefined)
    return fail(invalidConfig({ path: 'format', message: `Unknown report format '${printable(bad)}': choose from ${FORMATS.join(', ')}.` }));
  const rawOut = p.right.values.out;
  const out = typeof rawOut === 'string' ? reportOutDir(rawOut, p.right.values.force === true) : undefined;
  if (out !== undefined && E.isLeft(out)) return fail(out.left);
  const written = await writeReport(dir, { ...(out !== undefined ? { out: out.right } : {}), formats: formats.filter(isFormat), onWarning: warn });
  if (E.isLeft(written)) return fail(written.left);
  for (const a of written.right) process.stdout.write(`${a.path}\n`);
  return 0;
};
