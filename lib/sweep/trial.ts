import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { concat, defer, tap, type Observable } from 'rxjs';
import { runId, type RunSpec } from '../config/spec.js';
import type { Dataset } from '../data/types.js';
import type { RunEvent } from '../train/events.js';
import type { RunTrainer } from '../train/trainer.js';
import type { OptbenchError } from '../errors.js';
import { raise } from '../observable.js';
import { validationMetric } from './search.js';

/** What earlier invocations stored of a trial: its validation metric per epoch, and why it failed. */
export interface TrialHistory {
  readonly metrics: readonly number[];
  readonly failed: string | null;
}

/** Reads a trial's history (from a store: `storeHistory`); none when a sweep keeps nothing. Left: it cannot be read. */
export type HistoryOf = (runId: string) => E.Either<OptbenchError, TrialHistory>;

export interface TrialOutcome {
  /** Validation metric after each epoch 1..k the trial has (earlier invocations' and this one's). */
  readonly metrics: readonly number[];
  readonly failed: string | null;
  /** It did not reach the epoch asked for (Ctrl-C, or another process holds the run). */
  readonly interrupted: boolean;
}

/**
 * Trains a trial through `trainer` up to `untilEpoch` (evaluated on its held-out images), passing its
 * events on, then `after(outcome)`: the epochs it had before (`history`, what earlier invocations stored,
 * else `known`, what this search saw of it) and the ones trained now.
 */
export const trainTrial = <T>(
  trainer: RunTrainer,
  data: Dataset,
  spec: RunSpec,
  ctx: { readonly index: number; readonly total: number; readonly untilEpoch: number },
  history: HistoryOf | undefined,
  known: readonly number[],
  after: (outcome: TrialOutcome) => Observable<T>,
): Observable<RunEvent | T> =>
  defer(() =>
    pipe(
      history?.(runId(spec)) ?? E.right({ metrics: known, failed: null }),
      E.match(raise, (before) => {
        const metrics = [...before.metrics];
        let failed = before.failed;
        let interrupted = false;
        const see = (e: RunEvent): void => {
          if (e.type === 'RunStarted') metrics.length = Math.min(metrics.length, e.fromEpoch);
          else if (e.type === 'EpochEnded') metrics[e.epoch - 1] = validationMetric(e);
          else if (e.type === 'RunFailed') {
            if (e.error._tag === 'Interrupted') interrupted = true;
            else failed = e.error.message;
          }
        };
        return concat(
          trainer(spec, data, { ...ctx, evaluation: { split: 'validation' } }).pipe(tap(see)),
          defer(() =>
            after({
              metrics,
              failed,
              interrupted: interrupted || (failed === null && metrics.length < ctx.untilEpoch),
            }),
          ),
        );
      }),
    ),
  );
