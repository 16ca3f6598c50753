import * as E from 'fp-ts/lib/Either.js';
import { concat, concatMap, defer, of, type OperatorFunction } from 'rxjs';
import type { Dataset } from '../data/types.js';
import { internalError, invalidConfig } from '../errors.js';
import { localTrainer, type RunTrainer } from '../train/trainer.js';
import type { AshaState } from './asha.js';
import { ashaSearch } from './asha-search.js';
import type { SweepEvent } from './events.js';
import { fullSearch } from './full-search.js';
import { checkSearchConfig, decodeSearchConfig, searchPoints, type SearchConfig } from './search.js';
import type { HistoryOf } from './trial.js';
import { raise } from '../observable.js';

export interface SearchTrialsOptions {
  /** Trains each trial (default: `localTrainer()`); trials are evaluated on their held-out images. */
  readonly trainer?: RunTrainer;
  /** Trials in flight at once (default 1). */
  readonly concurrency?: number;
  /** What earlier invocations stored of each trial (`storeHistory(store)`), so that nothing is trained twice. */
  readonly history?: HistoryOf;
  /** ASHA state saved by an earlier, interrupted invocation of the same search. */
  readonly resumeFrom?: AshaState | null;
  /** Polled before each job: when true the search starts nothing more and ends as interrupted. */
  readonly shouldStop?: () => boolean;
}

/**
 * A hyperparameter search on each Dataset that arrives: SearchStarted, the trials' RunEvents with a
 * SearchUpdated after every decision, then SearchEnded with the chosen trial. Grid and random search train
 * every trial to the full budget, ASHA rung by rung; `concurrency` trials at a time either way, each through
 * the trainer. A config that does not decode, or a holdout that leaves nothing to train on, is an
 * InvalidConfig on the error channel before anything is trained; a trial's own failure is its RunFailed.
 */
export const searchTrials =
  (config: SearchConfig, opts: SearchTrialsOptions = {}): OperatorFunction<Dataset, SweepEvent> =>
  (source) =>
    defer(() => {
      const decoded = E.chain(checkSearchConfig)(decodeSearchConfig(config));
      if (E.isLeft(decoded)) return raise(decoded.left);
      const c = decoded.right;
      const points = searchPoints(c);
      if (E.isLeft(points)) return raise(points.left);
      const concurrency = opts.concurrency ?? 1;
      if (!Number.isInteger(concurrency) || concurrency < 1)
        return raise(invalidConfig({ path: 'concurrency', message: `concurrency must be a whole number >= 1, got ${concurrency}.` }));
      const resumeFrom = c.strategy === 'asha' ? (opts.resumeFrom ?? null) : null;
      if (resumeFrom && resumeFrom.config.trials !== points.right.length)
        return raise(internalError(`The saved ASHA state has ${resumeFrom.config.trials} trials but the sweep has ${points.right.length}.`));
      const run = {
        trainer: opts.trainer ?? localTrainer(),
        concurrency,
        ...(opts.history ? { history: opts.history } : {}),
        ...(opts.shouldStop ? { shouldStop: opts.shouldStop } : {}),
      };
      return source.pipe(
        concatMap((data) => {
          if (c.holdout >= data.train.count)
            return raise(invalidConfig({
                path: 'holdout',
                message: `--holdout ${c.holdout} leaves nothing to train on: ${data.name} has ${data.train.count} training images. Choose a smaller --holdout.`,
              }),
            );
          const started: SweepEvent = { type: 'SearchStarted', config: c, trials: points.right.length, resumed: resumeFrom !== null };
          const search = c.strategy === 'asha' ? ashaSearch(c, points.right, data, { ...run, resumeFrom }) : fullSearch(c, points.right, data, run);
          return concat(of(started), search);
        }),
      );
    });
