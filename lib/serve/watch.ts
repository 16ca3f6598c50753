/** One watcher per run directory: a read whenever its files change, as an Observable. */
import * as E from 'fp-ts/lib/Either.js';
import { asyncScheduler, defer, filter, map, scan, timer, type Observable, type SchedulerLike } from 'rxjs';
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
  readonly scheduler?: SchedulerLike;
}

/** Whether a read shows a run that a process holds now (running, or claimed and about to start). */
const holdsRuns = (r: DirRead | null): boolean =>
  r !== null && E.isRight(r) && r.right.runs.some((x) => x.row.owner !== null || x.row.status === 'running');

interface Tick {
  readonly signature: string;
  readonly readAt: number;
  readonly read: boolean;
}

/**
 * Reads `dir` at once, then again whenever its signature (dirSignature) changes, looked at every
 * intervalMs, and every refreshMs while the last read showed runs held by a live process. Cold, with its
 * state per subscription: the server subscribes once per directory and shares what it sees with every page.
 */
export const watchDir = (dir: string, opts: WatchOptions): Observable<DirRead> =>
  defer(() => {
    const scheduler = opts.scheduler ?? asyncScheduler;
    let last: DirRead | null = null;
    const first: Tick = { signature: '', readAt: -Infinity, read: false };
    return timer(0, opts.intervalMs, scheduler).pipe(
      map(() => dirSignature(dir)),
      scan<string, Tick>((prev, signature) => {
        const now = scheduler.now();
        const read = signature !== prev.signature || (holdsRuns(last) && now - prev.readAt >= opts.refreshMs);
        return { signature, readAt: read ? now : prev.readAt, read };
      }, first),
      filter((t) => t.read),
      map(() => (last = readDir(dir))),
    );
  });
