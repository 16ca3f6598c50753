import { EMPTY, concat, defer, from, mergeMap, of, type Observable } from 'rxjs';
import { runId } from '../config/spec.js';
import type { Dataset } from '../data/types.js';
import type { RunTrainer } from '../train/trainer.js';
import type { SweepEvent } from './events.js';
import { bestTrial, trialSpec, type SearchConfig, type SearchResult, type TrialRecord, type TrialStatus } from './search.js';
import type { SpacePoint } from './space.js';
import { trainTrial, type HistoryOf } from './trial.js';

export interface SearchRunOptions {
  readonly trainer: RunTrainer;
  readonly concurrency: number;
  readonly history?: HistoryOf;
  /** Polled before each job: when true, no new job starts (the ones in flight stop on their own). */
  readonly shouldStop?: () => boolean;
}

/**
 * Grid or random search: every trial trained to the full budget, `concurrency` at a time (a trial starts as
 * soon as a slot is free), a SearchUpdated after each, SearchEnded with the trial of the best validation
 * metric.
 */
export const fullSearch = (c: SearchConfig, points: readonly SpacePoint[], data: Dataset, opts: SearchRunOptions): Observable<SweepEvent> =>
  defer(() => {
    const records: TrialRecord[] = points.map((point, trial) => ({
      trial,
      point,
      runId: runId(trialSpec(c, point)),
      metrics: [],
      status: 'not started',
      error: null,
    }));
    let interrupted = false;
    const result = (): SearchResult => ({ config: c, trials: [...records], asha: null, best: bestTrial(c, records), interrupted });
    const trials = from(points.entries()).pipe(
      mergeMap(
        ([trial, point]) =>
          defer(() => {
            if (interrupted || opts.shouldStop?.()) {
              interrupted = true;
              return EMPTY;
            }
            const spec = trialSpec(c, point);
            const ctx = { index: trial + 1, total: points.length, untilEpoch: c.epochs };
            return trainTrial(opts.trainer, data, spec, ctx, opts.history, records[trial]!.metrics, (r) => {
              const status: TrialStatus = r.failed !== null ? 'failed' : r.metrics.length >= c.epochs ? 'completed' : 'unfinished';
              records[trial] = { ...records[trial]!, metrics: r.metrics, status, error: r.failed };
              if (r.interrupted) interrupted = true;
              return of<SweepEvent>({ type: 'SearchUpdated', result: result() });
            });
          }),
        opts.concurrency,
      ),
    );
    return concat(trials, defer(() => of<SweepEvent>({ type: 'SearchEnded', result: result() })));
  });
