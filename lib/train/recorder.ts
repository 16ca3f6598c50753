import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defer, tap, type Observable } from 'rxjs';
import { runLabel, type RunSpec } from '../config/spec.js';
import { isGridStarted, isRunEvent, type StreamEvent } from './events.js';
import { foldRunRecord, foldTargetReached, type GridRecord, type RunRecord } from './record.js';
import { isTargetReached, type Targets } from './target.js';

/** Writes through a temporary file and a rename, so a reader never sees half a file. */
export const writeFileAtomic = (path: string, data: string | Uint8Array): void => {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
};

const runFileName = (spec: RunSpec, runId: string): string =>
  `${runLabel(spec).replace(/[^A-Za-z0-9_.-]+/g, '-')}-${runId}.json`;

const readJson = <A>(path: string): A | undefined => {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as A;
  } catch {
    return undefined;
  }
};

/**
 * Writes grid.json. A grid resumed in its directory (the same task) keeps the time it was first started,
 * so that a report of a grid trained over several sittings says when it began, not when it last resumed.
 */
const writeGridRecord = (outDir: string, grid: GridRecord): void => {
  mkdirSync(join(outDir, 'runs'), { recursive: true });
  const file = join(outDir, 'grid.json');
  const before = readJson<Partial<GridRecord>>(file);
  const createdAt = before?.task === grid.task && typeof before.createdAt === 'string' && before.createdAt !== '' ? before.createdAt : grid.createdAt;
  writeFileAtomic(file, JSON.stringify({ ...grid, createdAt }, null, 2));
};

export interface RecordRunsOptions {
  /** What grid.json says the grid is (`task 1`, `run`, ...) and its title; written on GridStarted. */
  readonly task?: string;
  readonly title?: string;
  /** The targets the grid's runs are judged against (reachTarget's), kept in grid.json for the report. */
  readonly targets?: Targets;
}

/**
 * Keeps the run directory `outDir` up to date: `grid.json` on GridStarted (every planned run, the class
 * names, and the targets when given) and `runs/<run>.json` on every run event but BatchEnded and on
 * TargetReached, so that a report can be drawn from a grid that is still training. A run resumed after epoch k keeps its first k epochs. Other events pass through.
 */
export const recordRuns =
  (outDir: string, opts: RecordRunsOptions = {}) =>
  <E extends StreamEvent>(source: Observable<E>): Observable<E> =>
    defer(() => {
      const records = new Map<string, { path: string; record: RunRecord }>();
      mkdirSync(join(outDir, 'runs'), { recursive: true });
      return source.pipe(
        tap((e) => {
          if (isGridStarted(e)) {
            writeGridRecord(outDir, {
              task: opts.task ?? 'run',
              title: opts.title ?? '',
              createdAt: new Date().toISOString(),
              classNames: e.classNames,
              specs: e.specs,
              ...(opts.targets !== undefined ? { targets: opts.targets } : {}),
            });
            return;
          }
          if (isTargetReached(e)) {
            const known = records.get(e.runId);
            const next = foldTargetReached(known?.record, e, new Date().toISOString());
            if (known === undefined || next === undefined) return;
            records.set(e.runId, { path: known.path, record: next });
            writeFileAtomic(known.path, JSON.stringify(next));
            return;
          }
          if (!isRunEvent(e) || e.type === 'BatchEnded') return;
          const known = records.get(e.runId);
          const spec = e.type === 'EpochEnded' ? known?.record.spec : e.spec;
          if (spec === undefined) return;
          const path = known?.path ?? join(outDir, 'runs', runFileName(spec, e.runId));
          const prev = known?.record;
          const earlier = e.type === 'RunStarted' && e.fromEpoch > 0 ? readJson<RunRecord>(path) : undefined;
          const next = foldRunRecord(prev, e, new Date().toISOString(), earlier);
          if (next === undefined) return;
          records.set(e.runId, { path, record: next });
          writeFileAtomic(path, JSON.stringify(next));
        }),
      );
    });
