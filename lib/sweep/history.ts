import { sequenceS } from 'fp-ts/lib/Apply.js';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { Store } from '../store/store.js';
import { validationMetric } from './search.js';
import type { HistoryOf } from './trial.js';

/**
 * A trial's history from the store: the validation metric of each epoch 1..k it holds, and why the run
 * failed if it did. A store that cannot be read is its Left, which ends the search's stream with it.
 */
export const storeHistory =
  (store: Store): HistoryOf =>
  (runId) =>
    pipe(
      sequenceS(E.Apply)({ completed: store.completedEpochs(runId), epochs: store.runEpochs(runId), rows: store.listRuns() }),
      E.map(({ completed, epochs, rows }) => {
        const row = rows.find((r) => r.runId === runId);
        return { metrics: epochs.slice(0, completed).map(validationMetric), failed: row?.status === 'failed' ? (row.error?.message ?? 'failed') : null };
      }),
    );
