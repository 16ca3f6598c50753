import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as A from 'fp-ts/lib/Array.js';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { readJsonFile } from '../config/json-file.js';
import { ioError, type OptbenchError } from '../errors.js';
import { openStore, STORE_FILE } from '../store/store.js';
import { GridRecordFile, RunRecordFile, type GridRecord, type RunRecord } from '../train/record.js';
import type { ReportSource } from './types.js';

const RUN_REMEDY = 'The report leaves this run out: move the file away, or train the run again into this directory to rewrite it.';
const GRID_REMEDY =
  "The report goes on without the grid's plan (its pending runs and class names): move grid.json away, or run the grid again into this directory to rewrite it.";

/** A file that could not be used, as the report's warning says it. */
const skipped = (e: OptbenchError): string => `Skipped ${e.message}`;

type StoreRuns =
  | { readonly kind: 'runs'; readonly runs: readonly RunRecord[] }
  | { readonly kind: 'none' }
  | { readonly kind: 'unreadable'; readonly why: string };

/**
 * The runs of the store in `dir`, which is the record of truth (every event is committed there first);
 * runs/*.json are its copies for other tools. A store that can't be read falls back to those copies.
 */
const readStoreRuns = (dir: string): StoreRuns => {
  const file = join(dir, STORE_FILE);
  try {
    if (!statSync(file).isFile()) return { kind: 'none' };
  } catch {
    return { kind: 'none' };
  }
  const opened = openStore(file, { readonly: true });
  if (E.isLeft(opened)) return { kind: 'unreadable', why: `Read runs/*.json instead of the store: ${opened.left.message}` };
  try {
    const records = opened.right.toRunRecords();
    if (E.isLeft(records)) return { kind: 'unreadable', why: `Read runs/*.json instead of the store: ${records.left.message}` };
    // A store with no run yet (a grid that has just started) says nothing the JSON files would not.
    return records.right.length === 0 ? { kind: 'none' } : { kind: 'runs', runs: records.right };
  } finally {
    opened.right.close();
  }
};

/**
 * Reads a run directory (the store when it has one, else grid.json + runs/*.json), also while it is still being written: a run with
 * status 'running' is kept with the epochs it has, and a file that does not parse is skipped with a
 * warning rather than failing the whole report.
 */
export const readRunDir = (dir: string): E.Either<OptbenchError, ReportSource> => {
  try {
    if (!statSync(dir).isDirectory())
      return E.left(ioError({ file: dir, code: 'ENOTDIR', message: `${dir} is not a directory: give the run directory (the --out of a task or run).` }));
  } catch {
    return E.left(ioError({ file: dir, code: 'ENOENT', message: `${dir} does not exist: give the run directory (the --out of a task or run).` }));
  }
  const warnings: string[] = [];
  const gridFile = join(dir, 'grid.json');
  let hasGrid = false;
  try {
    hasGrid = statSync(gridFile).isFile();
  } catch {
    hasGrid = false;
  }
  const grid: GridRecord | null = !hasGrid
    ? null
    : pipe(
        readJsonFile(gridFile, GridRecordFile, { what: 'grid record', remedy: GRID_REMEDY, shown: 'grid.json' }),
        E.getOrElseW((e) => {
          warnings.push(skipped(e));
          return null;
        }),
      );
  const fromStore = readStoreRuns(dir);
  if (fromStore.kind === 'runs') return E.right({ grid, runs: fromStore.runs, warnings });
  if (fromStore.kind === 'unreadable') warnings.push(fromStore.why);
  const runsDir = join(dir, 'runs');
  let names: string[] = [];
  try {
    names = readdirSync(runsDir)
      .filter((n) => n.endsWith('.json'))
      .sort();
  } catch {
    if (!hasGrid)
      return E.left(
        ioError({
          file: dir,
          code: 'ENOENT',
          message: `${dir} has neither grid.json nor runs/: it is not a run directory. Give the --out directory of a task or run.`,
        }),
      );
  }
  const read = names.map((name) => readJsonFile(join(runsDir, name), RunRecordFile, { what: 'run record', remedy: RUN_REMEDY, shown: `runs/${name}` }));
  const { left: bad, right: runs } = A.separate(read);
  return E.right({ grid, runs, warnings: [...warnings, ...bad.map(skipped)] });
};
