import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { NonNegativeInt, PositiveInt, reportErrors, runId, type RunSpec } from '../config/spec.js';
import { invalidConfig, internalError, type OptbenchError } from '../errors.js';
import { AshaState, ashaNext, ashaReport, ashaResume, createAsha, type AshaJob } from './asha.js';
import { SearchSpace, gridPoints, randomPoints, toOverrides, type SpacePoint } from './space.js';

/**
 * Running a hyperparameter search: which trials (RunSpecs with the sampled optimizer overrides, trained on
 * all but the held-out training images and validated on those), how they are scheduled (every trial to the
 * full budget for grid and random search, rung by rung for ASHA, with `concurrency` asynchronous workers),
 * and the plain JSON record a sweep keeps so that it resumes. Training itself is a TrialTrainer, injected:
 * the store-backed one in ./trainer.ts, or a toy objective in tests.
 */

export const STRATEGIES = ['grid', 'random', 'asha'] as const;
export const Strategy = t.union([t.literal('grid'), t.literal('random'), t.literal('asha')]);
export type Strategy = t.TypeOf<typeof Strategy>;

export const SearchConfig = t.intersection([
  t.type({
    dataset: t.string,
    model: t.string,
    optimizer: t.string,
    preset: t.string,
    space: SearchSpace,
    strategy: Strategy,
    trials: PositiveInt,
    /** Full budget of a trial (R for ASHA), and the epochs of the final retraining. */
    epochs: PositiveInt,
    /** ASHA's bottom-rung resource r. */
    minEpochs: PositiveInt,
    eta: PositiveInt,
    /** Seed of the sampled points and of every trial's training (trials are paired, as a grid's optimizers). */
    searchSeed: NonNegativeInt,
    holdout: PositiveInt,
    batchSize: PositiveInt,
    backend: t.string,
    /** 'max' for accuracy (classifiers), 'min' for loss (VAEs). */
    direction: t.union([t.literal('max'), t.literal('min')]),
  }),
  t.partial({ subset: PositiveInt }),
]);
export type SearchConfig = t.TypeOf<typeof SearchConfig>;

export const decodeSearchConfig = (u: unknown): E.Either<OptbenchError, SearchConfig> =>
  pipe(
    SearchConfig.decode(u),
    E.mapLeft((errs) => reportErrors(errs, 'sweep config')),
  );

/** A trial's run: the sampled overrides, the held-out validation split, the full budget as its epochs. */
export const trialSpec = (c: SearchConfig, point: SpacePoint): RunSpec => ({
  dataset: c.dataset,
  model: c.model,
  optimizer: { name: c.optimizer, preset: c.preset, overrides: toOverrides(point) },
  seed: c.searchSeed,
  epochs: c.epochs,
  batchSize: c.batchSize,
  backend: c.backend,
  ...(c.subset !== undefined ? { subset: c.subset } : {}),
  holdout: c.holdout,
});

/** The configurations a search tries, in trial order (a grid may have fewer points than --trials). */
export const searchPoints = (c: SearchConfig): E.Either<OptbenchError, SpacePoint[]> =>
  c.strategy === 'grid' ? gridPoints(c.space, c.trials) : randomPoints(c.space, c.trials, c.searchSeed);

/** What training a trial up to some epoch gave: its validation metric after each epoch 1..k. */
export interface TrialProgress {
  readonly metrics: readonly number[];
  /** Why the run failed (it diverged, ...), or null. */
  readonly failed: string | null;
  /** The search was asked to stop (Ctrl-C) before the trial reached the epoch asked for. */
  readonly interrupted: boolean;
}

/**
 * Trains `spec` until `untilEpoch` epochs are complete, continuing from whatever the trial already has
 * (a finished or paused run is not retrained), and reports its validation metrics.
 */
export type TrialTrainer = (spec: RunSpec, untilEpoch: number, ctx: { readonly trial: number; readonly total: number }) => Promise<TrialProgress>;

export type TrialStatus = 'completed' | 'stopped' | 'failed' | 'unfinished' | 'not started';

export interface TrialRecord {
  readonly trial: number;
  readonly point: SpacePoint;
  readonly runId: string;
  /** Validation metric after each trained epoch. */
  readonly metrics: readonly number[];
  readonly status: TrialStatus;
  readonly error: string | null;
}

export interface SearchResult {
  readonly config: SearchConfig;
  readonly trials: readonly TrialRecord[];
  /** The scheduler's state (ASHA only), as saved: rungs, each trial's metric at each rung. */
  readonly asha: AshaState | null;
  /** Trial index of the chosen configuration: best validation metric at the full budget; null if none. */
  readonly best: number | null;
  readonly interrupted: boolean;
}

export interface SearchOptions {
  readonly concurrency?: number;
  readonly shouldStop?: () => boolean;
  /** ASHA state saved by an earlier, interrupted invocation of the same search. */
  readonly resumeFrom?: AshaState | null;
  /** Called with the ASHA state after every change, to save it (a killed sweep resumes from it). */
  readonly onState?: (s: AshaState) => void;
  /** Called after every finished job, e.g. to save the sweep record. */
  readonly onProgress?: (trials: readonly TrialRecord[]) => void;
}

const better = (c: SearchConfig, a: number, b: number): boolean => (c.direction === 'max' ? a > b : a < b);

/** The trial with the best validation metric after the full budget (the first such on a tie). */
export const bestTrial = (c: SearchConfig, trials: readonly TrialRecord[]): number | null => {
  let best: TrialRecord | null = null;
  for (const tr of trials) {
    if (tr.status !== 'completed') continue;
    const m = tr.metrics[c.epochs - 1]!;
    if (!Number.isFinite(m)) continue;
    if (best === null || better(c, m, best.metrics[c.epochs - 1]!)) best = tr;
  }
  return best?.trial ?? null;
};

/** Runs `job(worker)` on `n` asynchronous workers and resolves when all of them have returned. */
const workers = (n: number, job: () => Promise<void>): Promise<void> => Promise.all(Array.from({ length: n }, job)).then(() => undefined);

/**
 * Grid or random search: every trial trained to the full budget, `concurrency` at a time (a worker takes
 * the next trial as soon as it is free).
 */
const fullSearch = async (
  c: SearchConfig,
  points: readonly SpacePoint[],
  train: TrialTrainer,
  opts: SearchOptions,
): Promise<SearchResult> => {
  const records: TrialRecord[] = points.map((point, trial) => ({
    trial,
    point,
    runId: runId(trialSpec(c, point)),
    metrics: [],
    status: 'not started',
    error: null,
  }));
  let next = 0;
  let interrupted = false;
  await workers(Math.max(1, opts.concurrency ?? 1), async () => {
    while (!interrupted && next < points.length) {
      if (opts.shouldStop?.()) {
        interrupted = true;
        break;
      }
      const trial = next++;
      const r = await train(trialSpec(c, points[trial]!), c.epochs, { trial, total: points.length });
      const status: TrialStatus = r.failed !== null ? 'failed' : r.metrics.length >= c.epochs ? 'completed' : 'unfinished';
      records[trial] = { ...records[trial]!, metrics: r.metrics, status, error: r.failed };
      if (r.interrupted) interrupted = true;
      opts.onProgress?.(records);
    }
  });
  return { config: c, trials: records, asha: null, best: bestTrial(c, records), interrupted };
};

/**
 * ASHA: free workers ask the scheduler for a job, train the trial up to the job's rung and report the
 * validation metric there. A worker told to wait sleeps until some job finishes (a promotion may open up).
 */
const ashaSearch = async (
  c: SearchConfig,
  points: readonly SpacePoint[],
  train: TrialTrainer,
  opts: SearchOptions,
): Promise<E.Either<OptbenchError, SearchResult>> => {
  let state: AshaState;
  if (opts.resumeFrom) state = ashaResume(opts.resumeFrom);
  else {
    const fresh = createAsha({ minResource: c.minEpochs, maxResource: c.epochs, eta: c.eta, trials: points.length, direction: c.direction });
    if (E.isLeft(fresh)) return fresh;
    state = fresh.right;
  }
  const metrics: number[][] = points.map(() => []);
  const errors: (string | null)[] = points.map(() => null);
  let interrupted = false;
  const failure: { error: OptbenchError | null } = { error: null };
  let wake: Array<() => void> = [];
  const notify = () => {
    const w = wake;
    wake = [];
    for (const f of w) f();
  };
  const records = (): TrialRecord[] =>
    points.map((point, trial) => {
      const tr = state.trials[trial];
      const m = metrics[trial]!;
      const status: TrialStatus =
        tr === undefined
          ? 'not started'
          : errors[trial] !== null || tr.metrics.some((x) => x === null)
            ? 'failed'
            : tr.metrics.length === state.rungs.length
              ? 'completed'
              : tr.running === null
                ? 'stopped'
                : 'unfinished';
      return { trial, point, runId: runId(trialSpec(c, point)), metrics: m, status, error: errors[trial]! };
    });
  opts.onState?.(state);
  const runJob = async (job: AshaJob): Promise<void> => {
    const r = await train(trialSpec(c, points[job.trial]!), job.resource, { trial: job.trial, total: points.length });
    if (r.metrics.length > metrics[job.trial]!.length) metrics[job.trial] = [...r.metrics];
    if (r.interrupted) {
      // The job stays in flight in the saved state; ashaResume issues it again next time.
      interrupted = true;
      return;
    }
    errors[job.trial] = r.failed;
    const m = r.failed !== null ? NaN : (r.metrics[job.resource - 1] ?? NaN);
    const reported = ashaReport(state, job.trial, job.rung, m);
    if (E.isLeft(reported)) {
      failure.error = reported.left;
      return;
    }
    state = reported.right;
    opts.onState?.(state);
    opts.onProgress?.(records());
  };
  await workers(Math.max(1, opts.concurrency ?? 1), async () => {
    for (;;) {
      if (interrupted || failure.error !== null) break;
      if (opts.shouldStop?.()) {
        interrupted = true;
        break;
      }
      const { decision, state: after } = ashaNext(state);
      state = after;
      if (decision === 'done') break;
      if (decision === 'wait') {
        await new Promise<void>((resolve) => wake.push(resolve));
        continue;
      }
      opts.onState?.(state);
      try {
        await runJob(decision);
      } finally {
        notify();
      }
    }
    notify();
  });
  if (failure.error !== null) return E.left(failure.error);
  // Trials that finished their rungs in an earlier invocation: ask for what they already have (nothing is
  // retrained), so that the record holds every trial's curve.
  for (const tr of state.trials) {
    const reported = tr.metrics.length;
    if (reported === 0 || metrics[tr.id]!.length > 0) continue;
    const r = await train(trialSpec(c, points[tr.id]!), state.rungs[reported - 1]!, { trial: tr.id, total: points.length });
    metrics[tr.id] = [...r.metrics];
    if (r.failed !== null) errors[tr.id] = r.failed;
  }
  const trials = records();
  return E.right({ config: c, trials, asha: state, best: bestTrial(c, trials), interrupted });
};

/** Runs a search to its end (or until `shouldStop`), training through `train`. */
export const runSearch = async (
  c: SearchConfig,
  train: TrialTrainer,
  opts: SearchOptions = {},
): Promise<E.Either<OptbenchError, SearchResult>> => {
  const points = searchPoints(c);
  if (E.isLeft(points)) return points;
  if (c.strategy !== 'asha') return E.right(await fullSearch(c, points.right, train, opts));
  if (opts.resumeFrom && opts.resumeFrom.config.trials !== points.right.length)
    return E.left(internalError(`The saved ASHA state has ${opts.resumeFrom.config.trials} trials but the sweep has ${points.right.length}.`));
  return ashaSearch(c, points.right, train, opts);
};

/** Checks the numbers of a search that io-ts cannot (relations between fields). */
export const checkSearchConfig = (c: SearchConfig): E.Either<OptbenchError, SearchConfig> => {
  if (c.strategy === 'asha' && c.eta < 2)
    return E.left(invalidConfig({ path: 'eta', message: `--eta must be at least 2 (3 is the usual choice), got ${c.eta}.` }));
  if (c.strategy === 'asha' && c.minEpochs > c.epochs)
    return E.left(invalidConfig({ path: 'min-epochs', message: `--min-epochs (${c.minEpochs}) must not exceed --epochs (${c.epochs}).` }));
  return E.right(c);
};

export { AshaState };
