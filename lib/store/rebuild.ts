import { existsSync, linkSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { runId as specId } from '../config/spec.js';
import { interrupted, printable, storeError, toOptbenchError, type OptbenchError } from '../errors.js';
import type { StoredEvent } from './writes.js';
import type { RunRecord } from '../train/record.js';
import { openStore, type Store } from './store.js';

/** What a rebuild wrote: the runs per status, and the records it could not use. */
export interface Rebuilt {
  readonly file: string;
  readonly statuses: Readonly<Record<string, number>>;
  readonly skipped: readonly string[];
}

/** A rebuild never replaces a store file, whatever it holds. */
export const storeExists = (file: string): OptbenchError =>
  storeError({
    file,
    message: `${printable(file)} exists: optbench rebuilds a store only where there is none. Move it away first (e.g. mv ${printable(file)} ${printable(file)}.bad).`,
  });

/** The events that, written to a store, give it the run a record describes. */
const eventsOf = (r: RunRecord, index: number, total: number): StoredEvent[] => {
  const epochs = [...r.epochs].sort((a, b) => a.epoch - b.epoch);
  const steps = r.spec.subset !== undefined ? Math.ceil(r.spec.subset / r.spec.batchSize) : 0;
  const events: StoredEvent[] = [
    { type: 'RunStarted', runId: r.runId, spec: r.spec, index, total, backend: r.backend || r.spec.backend, parameters: r.parameters, steps, fromEpoch: 0, startedAt: r.startedAt },
    ...epochs.map(
      (e): StoredEvent => ({
        type: 'EpochEnded',
        runId: r.runId,
        epoch: e.epoch,
        epochs: r.spec.epochs,
        train: e.train,
        test: e.test,
        ...(e.validation != null ? { validation: e.validation } : {}),
        evaluation: null,
        trainMs: e.trainMs,
        evalMs: e.evalMs,
      }),
    ),
    // When it reached its target, written while the run is still held (before its end).
    ...(r.reached != null ? [{ type: 'TargetReached' as const, runId: r.runId, ...r.reached }] : []),
  ];
  const sum = (f: (e: (typeof epochs)[number]) => number) => epochs.reduce((t, e) => t + f(e), 0);
  if (r.status === 'done' && r.final !== null)
    events.push({
      type: 'RunEnded',
      runId: r.runId,
      spec: r.spec,
      final: r.final,
      confusion: r.confusion === null ? null : r.confusion.map((row) => [...row]),
      vae: r.vae,
      trainMs: sum((e) => e.trainMs),
      evalMs: sum((e) => e.evalMs),
    });
  else {
    // A run not done stops where its record stops: failed with its error, or interrupted (it resumes).
    const error: OptbenchError =
      r.status === 'failed' && r.error !== null ? r.error : interrupted(`Stopped after epoch ${epochs.length} (rebuilt from its run record).`);
    events.push({ type: 'RunFailed', runId: r.runId, spec: r.spec, error, epochsDone: epochs.length });
  }
  return events;
};

/** How a rebuilt run stands: done, failed, or interrupted (it resumes). */
const standing = (r: RunRecord): string => (r.status === 'done' && r.final !== null ? 'done' : r.status === 'failed' ? 'failed' : 'interrupted');

/** Writes each record's events, in order, stopping at the first the store refuses; counts the runs by standing. */
const write = (store: Store, records: readonly RunRecord[]): E.Either<OptbenchError, Record<string, number>> =>
  pipe(
    records,
    E.traverseArrayWithIndex((i, r) =>
      pipe(
        eventsOf(r, i + 1, records.length),
        E.traverseArray((e: StoredEvent) => store.writeEvent(e)),
        E.map(() => standing(r)),
      ),
    ),
    E.map((standings) => standings.reduce<Record<string, number>>((n, s) => ({ ...n, [s]: (n[s] ?? 0) + 1 }), {})),
  );

/**
 * Makes a new store at `file` from run records (a run directory's runs/*.json, which hold every finished
 * epoch and result): for when the store was lost or damaged and moved away. Never overwrites a file: the
 * store is built under a temporary name and linked into place only if `file` still does not exist.
 * Runs that were not done come back as interrupted (or failed), so the same command resumes them.
 */
export const rebuildStore = (file: string, records: readonly RunRecord[]): E.Either<OptbenchError, Rebuilt> => {
  if (existsSync(file)) return E.left(storeExists(file));
  const skipped: string[] = [];
  const usable = records.filter((r) => {
    if (specId(r.spec) === r.runId) return true;
    skipped.push(`${r.runId}: its runId is not the hash of its spec (the record was edited)`);
    return false;
  });
  const tmp = join(dirname(file), `.${basename(file)}.rebuild-${process.pid}`);
  try {
    const opened = openStore(tmp);
    if (E.isLeft(opened)) return opened;
    const written = (() => {
      try {
        return write(opened.right, usable);
      } finally {
        opened.right.close();
      }
    })();
    if (E.isLeft(written)) return written;
    linkSync(tmp, file);
    return E.right({ file, statuses: written.right, skipped });
  } catch (u) {
    const e = toOptbenchError(u);
    return E.left(
      e._tag === 'IoError' && e.code === 'EEXIST'
        ? storeError({ file, message: `${printable(file)} appeared while the store was rebuilt (another optbench process?): it was left as it is.` })
        : e,
    );
  } finally {
    for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`])
      try {
        unlinkSync(f);
      } catch {
        // gone already
      }
  }
};
