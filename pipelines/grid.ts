import { Observable, identity } from 'rxjs';
import {
  evaluate,
  loadFashion$,
  persist,
  recordRuns,
  showProgress,
  storeTrainer,
  trainGrid,
  type GridEvent,
  type GridOptions,
  type GridPlan,
  type LoadConfig,
  type Store,
} from '../lib/index.js';

export interface GridJob {
  /** `task 1`, `quick`, `run`, ... */
  readonly task: string;
  readonly title: string;
  readonly plan: GridPlan;
  /** Run directory: grid.json, runs/*.json, results and report. */
  readonly out: string;
  readonly data: LoadConfig;
}

/**
 * A grid as one stream, composed only of public operators: load and verify the data, train every run,
 * evaluate each epoch's model, write each event to the store before anything else sees it, keep the run
 * directory up to date after every epoch, and show progress on stderr. With a store, the grid is
 * resumable: finished runs are skipped and interrupted ones continue from their last checkpoint.
 */
export const gridPipeline = (
  job: GridJob,
  opts: GridOptions & { readonly progress?: boolean; readonly store?: Store } = {},
): Observable<GridEvent> => {
  const { store, progress, trainer, concurrency, evaluate: evaluation, ...fitOptions } = opts;
  const train = trainer ?? (store ? storeTrainer(store, job.out, fitOptions) : undefined);
  const events = loadFashion$(job.data).pipe(
    trainGrid(job.plan, {
      ...fitOptions,
      ...(train ? { trainer: train } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      // Options given here travel with every run (a trainer elsewhere evaluates where its model is).
      ...(evaluation ? { evaluate: evaluation } : {}),
    }),
    evaluate(evaluation ?? {}),
    store ? persist(store) : identity,
    recordRuns(job.out, { task: job.task, title: job.title }),
  );
  return progress === false ? events : events.pipe(showProgress());
};
