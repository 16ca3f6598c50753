import * as E from 'fp-ts/lib/Either.js';
import type { OptbenchError } from '../errors.js';
import type { Store } from '../store/store.js';
import { validationMetric } from './search.js';
import type { HistoryOf } from './trial.js';

const orThrow = <A>(e: E.Either<OptbenchError, A>): A => {
  if (E.isLeft(e)) throw e.left;
  return e.right;
};

/**
 * A trial's history from the store: the validation metric of each epoch 1..k it holds, and why the run
 * failed if it did. A store that cannot be read throws its OptbenchError, which ends the search's stream
 * with it.
 */
export const storeHistory =
  (store: Store): HistoryOf =>
  (runId) => {
    const completed = orThrow(store.completedEpochs(runId));
    const metrics = orThrow(store.runEpochs(runId)).slice(0, completed).map(validationMetric);
    const row = orThrow(store.listRuns()).find((r) => r.runId === runId);
    return { metrics, failed: row?.status === 'failed' ? (row.error?.message ?? 'failed') : null };
  };
