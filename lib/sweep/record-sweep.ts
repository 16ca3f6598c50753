import * as E from 'fp-ts/lib/Either.js';
import { defer, tap, type Observable } from 'rxjs';
import type { StreamEvent } from '../train/events.js';
import { isSweepEvent } from './events.js';
import { foldSweepRecord, readSweepRecord, writeSweepRecord } from './record.js';
import { raise } from '../observable.js';

/**
 * Keeps `<outDir>/sweep.json` up to date with a sweep's progress: after every search decision and finished
 * job, so that a killed sweep resumes from it (its trials' epochs are in the store, written by `persist`,
 * which should come before this stage). Every event passes through unchanged.
 */
export const recordSweep =
  (outDir: string) =>
  <E extends StreamEvent>(source: Observable<E>): Observable<E> =>
    defer(() => {
      const saved = readSweepRecord(outDir);
      if (E.isLeft(saved)) return raise(saved.left);
      const createdAt = saved.right?.createdAt ?? new Date().toISOString();
      let progress: Parameters<typeof foldSweepRecord>[0] = null;
      return source.pipe(
        tap((e) => {
          if (!isSweepEvent(e)) return;
          const before = progress;
          progress = foldSweepRecord(progress, e, createdAt);
          if (progress !== null && progress !== before && e.type !== 'SweepStarted') writeSweepRecord(outDir, progress.record);
        }),
      );
    });
