import { Observable, concatMap, identity, of, type OperatorFunction } from 'rxjs';
import * as E from 'fp-ts/lib/Either.js';
import {
  evaluate,
  loadFashion$,
  persist,
  planGrid,
  recordRuns,
  showProgress,
  storeTrainer,
  trainGrid,
  type GridEvent,
  type GridOptions,
  type GridPlan,
  type LoadConfig,
  type RunSpec,
  type Store,
  raise,
} from '../lib/index.js';
import { checkFeeds, classesFor } from '../lib/models/index.js';
import { checkProtocol } from '../lib/store/index.js';
import { fitPlanToData, reachTarget, type TargetReached, type Targets } from '../lib/train/index.js';

export interface GridJob {
  /** `task 1`, `quick`, `run`, ... */
  readonly task: string;
  readonly title: string;
  readonly plan: GridPlan;
  /** Run directory: grid.json, runs/*.json, results and report. */
  readonly out: string;
  readonly data: LoadConfig;
  /**
   * Judge each run against its model's target on the images the plan holds out (`plan.holdout`, which a
   * grid with targets needs): each epoch is evaluated on the test set and on them, and reachTarget records
   * when a run first reaches its target.
   */
  readonly targets?: Targets;
}

export interface GridPipelineOptions extends GridOptions {
  readonly progress?: boolean;
  readonly store?: Store;
  /** Where notes go (a subset or batch larger than the data, ...); default: stderr. */
  readonly log?: (line: string) => void;
  /** Called with the runs as planned on the loaded data (what grid.json records), before any trains. */
  readonly onPlan?: (specs: readonly RunSpec[]) => void;
}

/**
 * A grid as one stream, composed only of public operators: load and verify the data (labels checked
 * against the classes the grid's classifiers output), refuse models the data cannot feed, fit the plan to
 * the data (what grid.json records is what runs), refuse a protocol other than the run directory's, train
 * every run, evaluate each epoch's model, write each event to the store before anything else sees it,
 * record when each run first reaches its model's target (when the job has targets), keep the run
 * directory up to date after every epoch, and show progress on stderr. With a store, the
 * grid is resumable: finished runs are skipped and interrupted ones continue from their last checkpoint.
 */
export const gridPipeline = (job: GridJob, opts: GridPipelineOptions = {}): Observable<GridEvent | TargetReached> => {
  const { store, progress, log, onPlan, trainer, concurrency, evaluate: evaluation, ...fitOptions } = opts;
  const say = log ?? ((line: string) => void process.stderr.write(`optbench: note: ${line}\n`));
  const train = trainer ?? (store ? storeTrainer(store, job.out, fitOptions) : undefined);
  const models = opts.runtime?.models;
  const classes = job.data.classes ?? classesFor(job.plan.models, models);
  // Runs that hold images out are tested on the test set all the same; the held-out images are measured
  // beside it, for the targets.
  const judge: OperatorFunction<GridEvent, GridEvent | TargetReached> =
    job.targets !== undefined ? reachTarget(job.targets, store ? { history: (id) => store.runEpochs(id) } : {}) : identity;
  const judged = job.plan.holdout !== undefined ? { ...(evaluation ?? {}), split: 'test' as const, heldOut: true } : evaluation;
  const events = loadFashion$({ ...job.data, ...(classes !== undefined ? { classes } : {}) }).pipe(
    concatMap((data) => {
      const shape = { rows: data.train.rows, cols: data.train.cols, channels: 1, classes: data.classNames.length };
      const feeds = checkFeeds(job.plan.models, shape, data.name, models);
      if (E.isLeft(feeds)) return raise(feeds.left);
      const fitted = fitPlanToData(job.plan, data);
      const planned = planGrid(fitted.plan);
      if (E.isLeft(planned)) return raise(planned.left);
      const specs = planned.right;
      const same = checkProtocol(job.out, specs, store);
      if (E.isLeft(same)) return raise(same.left);
      fitted.notes.forEach(say);
      onPlan?.(specs);
      return of(data).pipe(
        trainGrid(specs, {
          ...fitOptions,
          ...(train ? { trainer: train } : {}),
          ...(concurrency !== undefined ? { concurrency } : {}),
          // Options given here travel with every run (a trainer elsewhere evaluates where its model is).
          ...(evaluation ? { evaluate: judged } : {}),
        }),
      );
    }),
    evaluate(judged ?? {}),
    judge,
    store ? persist(store) : identity,
    recordRuns(job.out, { task: job.task, title: job.title, ...(job.targets !== undefined ? { targets: job.targets } : {}) }),
  );
  return progress === false ? events : events.pipe(showProgress());
};
