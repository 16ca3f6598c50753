import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as O from 'fp-ts/lib/Option.js';
import type * as t from 'io-ts';
import { pipe } from 'fp-ts/lib/function.js';
import { readJsonFile } from '../config/json-file.js';
import { defer, tap, type Observable } from 'rxjs';
import { runLabel, type RunSpec } from '../config/spec.js';
import { isGridStarted, isRunEvent, type StreamEvent } from './events.js';
import { foldRunRecord, foldTargetReached, GridRecordFile, RunRecordFile, type GridRecord, type RunRecord } from './record.js';
import { isTargetReached, type Targets } from './target.js';

/** Writes through a temporary file and a rename, so a reader never sees half a file. */
export const writeFileAtomic = (path: string, data: string | Uint8Array): void => {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
};

const runFileName = (spec: RunSpec, runId: string): string =>
  `${runLabel(spec).replace(/[^A-Za-z0-9_.-]+/g, '-')}-${runId}.json`;

/**
 * What a file this writer wrote earlier holds, decoded; undefined when there is none or it does not decode
 * (it is then written anew: the store, not this copy, is the record of truth).
 */
const earlierRecord = <A>(path: string, codec: t.Decoder<unknown, A>): A | undefined =>
  pipe(readJsonFile(path, codec, { what: 'record', remedy: '' }), O.fromEither, O.toUndefined);

/**
 * Writes grid.json. A grid resumed in its directory (the same task) keeps the time it was first started,
 * so that a report of a grid trained over several sittings says when it began, not when it last resumed.
 */
const writeGridRecord = (outDir: string, grid: GridRecord): void => {
  mkdirSync(join(outDir, 'runs'), { recursive: true });
  const file = join(outDir, 'grid.json');
  const before = earlierRecord(file, GridRecordFile);
  const createdAt = before?.task === grid.task && before.createdAt !== '' ? before.createdAt : grid.createdAt;
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
          const earlier = e.type === 'RunStarted' && e.fromEpoch > 0 ? earlierRecord(path, RunRecordFile) : undefined;
          const next = foldRunRecord(prev, e, new Date().toISOString(), earlier);
          if (next === undefined) return;
          records.set(e.runId, { path, record: next });
          writeFileAtomic(path, JSON.stringify(next));
        }),
      );
    });
