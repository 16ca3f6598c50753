import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { writeReport } from '../report/index.js';
import { warn } from './exit.js';

/**
 * Every grid ends by writing its tables and, unless asked not to, the full report (report.html and the
 * figures under report/) into its run directory; results.md at the top is the study's table layout.
 * A report failure is printed, never fatal: the runs themselves are already on disk.
 */
export const finishRunDir = async (dir: string, opts: { report: boolean }): Promise<void> => {
  const written = await writeReport(dir, {
    formats: opts.report ? ['html', 'md', 'png', 'svg', 'csv', 'tex'] : ['md'],
    onWarning: warn,
  });
  if (E.isLeft(written)) {
    process.stderr.write(`optbench: the report could not be written: ${written.left.message}\n`);
    return;
  }
  const table = written.right.find((a) => a.path.endsWith('table.md'));
  if (table) copyFileSync(table.path, join(dir, 'results.md'));
  const html = written.right.find((a) => a.path.endsWith('report.html'));
  if (html) process.stderr.write(`Report: ${html.path}\n`);
};
