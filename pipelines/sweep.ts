import * as E from 'fp-ts/lib/Either.js';
import { concatMap, identity, lastValueFrom, of, reduce } from 'rxjs';
import {
  loadFashion$,
  persist,
  planGrid,
  recordRuns,
  showProgress,
  storeTrainer,
  invalidConfig,
  toOptbenchError,
  type LoadConfig,
  type OptbenchError,
  type RunTrainer,
  type Runtime,
  type Store,
  raise,
} from '../lib/index.js';
import { checkFeeds, classesFor } from '../lib/models/index.js';
import { checkProtocol } from '../lib/store/index.js';
import {
  foldSweepRecord,
  logSearches,
  readSweepRecord,
  recordSweep,
  retrainGridPlan,
  storeHistory,
  sweep,
  type SweepRecord,
  type SweepSpec,
} from '../lib/sweep/index.js';

export interface SweepJob extends SweepSpec {
  /** Run directory: store, sweep.json, every run's record and the reports. */
  readonly out: string;
  readonly data: LoadConfig;
}

export interface SweepOptions {
  readonly store: Store;
  readonly shouldStop?: () => boolean;
  readonly log?: (line: string) => void;
  /** Show every run's progress (trials and retraining) on stderr. */
  readonly progress?: boolean;
  /** Trains each run the store gives this process (default: here; e.g. `queueTrainer` for workers elsewhere). */
  readonly train?: RunTrainer;
  /** What runs trained here compute with (their names resolve in its registries); default builtInRuntime(). */
  readonly runtime?: Runtime;
}

export interface SweepOutcome {
  readonly record: SweepRecord;
  readonly interrupted: boolean;
}

/**
 * A sweep or a tune as one stream, composed only of public operators, resumable at every step: each
 * trial is a run in the store (a killed sweep re-run skips finished trials and continues paused or
 * interrupted ones from their checkpoints; sweep.json saves ASHA's state after every decision), then the
 * chosen configurations are retrained on all training images with the requested seeds and tested.
 */
export const runSweep = async (job: SweepJob, opts: SweepOptions): Promise<E.Either<OptbenchError, SweepOutcome>> => {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const saved = readSweepRecord(job.out);
  if (E.isLeft(saved)) return saved;
  const { out, data, ...spec } = job;
  const stop = opts.shouldStop ? { shouldStop: opts.shouldStop } : {};
  const trainer = storeTrainer(opts.store, out, { keepFailed: true, ...stop, ...(opts.train ? { train: opts.train } : {}), ...(opts.runtime ? { runtime: opts.runtime } : {}) }, log);
  const first = job.searches[0];
  if (first === undefined) return E.left(invalidConfig({ path: 'searches', message: 'A sweep needs at least one search.' }));
  const model = first.model;
  const classes = data.classes ?? classesFor([model], opts.runtime?.models);
  try {
    const progress = await lastValueFrom(
      loadFashion$({ ...data, ...(classes !== undefined ? { classes } : {}) }).pipe(
        concatMap((loaded) => {
          // Refused before the first trial, as a grid refuses before training: a model the data cannot
          // feed, or a directory that holds runs of another protocol than this sweep's retraining.
          const shape = { rows: loaded.train.rows, cols: loaded.train.cols, channels: 1, classes: loaded.classNames.length };
          const feeds = checkFeeds([model], shape, loaded.name, opts.runtime?.models);
          if (E.isLeft(feeds)) return raise(feeds.left);
          const probe = planGrid(retrainGridPlan(spec, [{ name: first.optimizer }], loaded));
          if (E.isLeft(probe)) return raise(probe.left);
          const same = checkProtocol(out, probe.right, opts.store);
          if (E.isLeft(same)) return raise(same.left);
          return of(loaded);
        }),
        sweep(spec, { trainer, history: storeHistory(opts.store), saved: saved.right, ...stop }),
        persist(opts.store),
        recordRuns(out, { task: job.kind, title: job.title }),
        recordSweep(out),
        logSearches(log),
        opts.progress === false ? identity : showProgress(),
        reduce((p, e) => foldSweepRecord(p, e, saved.right?.createdAt ?? ''), null as Parameters<typeof foldSweepRecord>[0]),
      ),
    );
    const record = readSweepRecord(out);
    if (E.isLeft(record)) return record;
    const final = record.right ?? progress?.record;
    if (!final) return E.left(toOptbenchError(new Error('the sweep ended without a record')));
    const interrupted = final.searches.some((s) => s.interrupted) || (opts.shouldStop?.() ?? false);
    return E.right({ record: final, interrupted });
  } catch (e) {
    return E.left(toOptbenchError(e));
  }
};
