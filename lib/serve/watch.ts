/** One watcher per run directory: a read whenever its files change, as an Observable. */
import * as E from 'fp-ts/lib/Either.js';
import { asyncScheduler, defer, filter, map, timer, type Observable, type SchedulerLike } from 'rxjs';
import type { OptbenchError } from '../errors.js';
import { readDir, type DirSnapshot } from './dir-read.js';
import { dirSignature } from './signature.js';

export type DirRead = E.Either<OptbenchError, DirSnapshot>;

export interface WatchOptions {
  /** How often the directory's files are looked at (a few stat calls). */
  readonly intervalMs: number;
  /**
   * While some run is held by a live process, how often the store is read even when no file changed: a run
   * whose process died changes no file, and shows as interrupted once its lease lapses (or its pid is gone).
   */
  readonly refreshMs: number;
  /** What the caller read already: no read until the files change from its signature (or a refresh is due). */
  readonly initial?: DirSnapshot;
  readonly scheduler?: SchedulerLike;
}

/** Whether a read shows a run that a process holds now (running, or claimed and about to start). */
const holdsRuns = (r: DirRead | null): boolean =>
  r !== null && E.isRight(r) && r.right.runs.some((x) => x.row.owner !== null || x.row.status === 'running');

/**
 * A read of a big store costs real time (a thousand runs: a tenth of a second or more): after one that took
 * d ms the next waits at least BUSY_FACTOR x d, so that watching a store that changes all the time keeps the
 * server busy a quarter of the time at most. Small directories are read as soon as they change.
 */
const BUSY_FACTOR = 3;

/**
 * Reads `dir` at once (unless given the caller's `initial` read), then again whenever its signature (dirSignature) has changed since the last read,
 * looked at every intervalMs, and every refreshMs while the last read showed runs held by a live process.
 * Cold, with its state per subscription: the server subscribes once per directory and shares what it sees
 * with every page.
 */
export const watchDir = (dir: string, opts: WatchOptions): Observable<DirRead> =>
  defer(() => {
    const scheduler = opts.scheduler ?? asyncScheduler;
    let last: DirRead | null = opts.initial === undefined ? null : E.right(opts.initial);
    /** The signature the last read started from, when it ended, and how long it took (ms). */
    let readFrom: string | null = opts.initial?.signature ?? null;
    let readAt = opts.initial === undefined ? -Infinity : scheduler.now();
    let cost = 0;
    return timer(0, opts.intervalMs, scheduler).pipe(
      map((): DirRead | null => {
        const now = scheduler.now();
        if (now - readAt < BUSY_FACTOR * cost) return null;
        const signature = dirSignature(dir);
        if (signature === readFrom && !(holdsRuns(last) && now - readAt >= opts.refreshMs)) return null;
        const t0 = performance.now();
        last = readDir(dir);
        cost = performance.now() - t0;
        readFrom = signature;
        readAt = scheduler.now();
        return last;
      }),
      filter((r): r is DirRead => r !== null),
    );
  });
