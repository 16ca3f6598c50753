import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { lastValueFrom, from, toArray } from 'rxjs';
import { recordArtifacts, writeReport } from '../../lib/report/index.js';
import type { Store } from '../../lib/store/store.js';
import { warn } from './exit.js';

/**
 * Every grid ends by writing its tables and, unless asked not to, the full report (report.html and the
 * figures under report/) into its run directory; results.md at the top is the study's table layout.
 * With the run directory's store, every file written is recorded in its artifacts table (size, SHA-256).
 * A report failure is printed, never fatal: the runs themselves are already on disk.
 */
export const finishRunDir = async (dir: string, opts: { report: boolean; store?: Store }): Promise<void> => {
  const written = await writeReport(dir, {
    formats: opts.report ? ['html', 'md', 'png', 'svg', 'csv', 'tex'] : ['md'],
    onWarning: warn,
  });
  if (E.isLeft(written)) {
    process.stderr.write(`optbench: the report could not be written: ${written.left.message}\n`);
    return;
  }
  const table = written.right.find((a) => a.path.endsWith('table.md'));
  const results = table === undefined ? [] : [{ ...table, path: join(dir, 'results.md') }];
  if (table !== undefined) copyFileSync(table.path, join(dir, 'results.md'));
  if (opts.store !== undefined) {
    try {
      await lastValueFrom(from([...written.right, ...results]).pipe(recordArtifacts(opts.store), toArray()));
    } catch (e) {
      warn(`the report's files could not be recorded in the store: ${(e as { message?: string }).message ?? String(e)}`);
    }
  }
  const html = written.right.find((a) => a.path.endsWith('report.html'));
  if (html) process.stderr.write(`Report: ${html.path}\n`);
};
