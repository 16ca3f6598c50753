import { Observable, identity, tap } from 'rxjs';
import {
  loadFashion$,
  persist,
  planGrid,
  recordRuns,
  showProgress,
  storeTrainer,
  trainGrid,
  writeGridRecord,
  type GridOptions,
  type GridPlan,
  type LoadConfig,
  type RunEvent,
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
 * write each event to the store before anything else sees it, keep the run directory up to date after
 * every epoch, and show progress on stderr. With a store, the grid is resumable: finished runs are
 * skipped and interrupted ones continue from their last checkpoint.
 */
export const gridPipeline = (
  job: GridJob,
  opts: GridOptions & { readonly progress?: boolean; readonly store?: Store } = {},
): Observable<RunEvent> => {
  const specs = planGrid(job.plan);
  const { store, progress, ...fitOptions } = opts;
  const trainer = opts.trainer ?? (store ? storeTrainer(store, job.out, fitOptions) : undefined);
  const events = loadFashion$(job.data).pipe(
    tap((data) =>
      writeGridRecord(job.out, {
        task: job.task,
        title: job.title,
        createdAt: new Date().toISOString(),
        classNames: data.classNames,
        specs,
      }),
    ),
    trainGrid(specs, { ...fitOptions, ...(trainer ? { trainer } : {}) }),
    store ? persist(store) : identity,
    recordRuns(job.out),
  );
  return progress === false ? events : events.pipe(showProgress());
};
