import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, type OptbenchError } from '../errors.js';
import { FORMATS, writeReport, type Format } from '../report/index.js';
import { list, parseOptions } from './options.js';

const fail = (e: OptbenchError): number => {
  process.stderr.write(`optbench: ${e.message}\n`);
  return e._tag === 'InvalidConfig' || e._tag === 'UnknownName' ? 2 : 1;
};

/** `optbench report <run-dir> [--out DIR] [--format html,md,png,svg,csv,tex]`: never retrains. */
export const reportCommand = async (argv: readonly string[]): Promise<number> => {
  const p = parseOptions(argv, { out: { type: 'string' }, format: { type: 'string' } });
  if (E.isLeft(p)) return fail(p.left);
  const dir = p.right.positionals[0];
  if (dir === undefined)
    return fail(invalidConfig({ path: 'run-dir', message: 'Usage: optbench report <run-dir> [--out DIR] [--format html,md,png,svg,csv,tex].' }));
  const formats = list(p.right.values.format) ?? [...FORMATS];
  const bad = formats.find((f) => !(FORMATS as readonly string[]).includes(f));
  if (bad !== undefined)
    return fail(invalidConfig({ path: 'format', message: `Unknown report format '${bad}': choose from ${FORMATS.join(', ')}.` }));
  const out = p.right.values.out;
  const written = await writeReport(dir, { ...(typeof out === 'string' ? { out } : {}), formats: formats as Format[] });
  if (E.isLeft(written)) return fail(written.left);
  for (const a of written.right) process.stdout.write(`${a.path}\n`);
  return 0;
};
