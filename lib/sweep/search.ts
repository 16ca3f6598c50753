import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { JsonNumber, nullable, strict } from '../config/codecs.js';
import { DataDigest, NonNegativeInt, PositiveInt, reportErrors, type RunSpec } from '../config/spec.js';
import { invalidConfig, type OptbenchError } from '../errors.js';
import { AshaState } from './asha.js';
import { SearchSpace, SpacePoint, gridPoints, randomPoints, toOverrides } from './space.js';

/**
 * A hyperparameter search as data: its config (io-ts), its trials (RunSpecs with the sampled optimizer
 * overrides, trained on all but the held-out training images and validated on those), and what it found
 * (SearchResult, the plain JSON a sweep keeps so that it resumes). The searches themselves are streams:
 * full-search.ts (grid, random) and asha-search.ts, run by `searchTrials`.
 */

export const STRATEGIES = ['grid', 'random', 'asha'] as const;
export const Strategy = t.union([t.literal('grid'), t.literal('random'), t.literal('asha')]);
export type Strategy = t.TypeOf<typeof Strategy>;

export const SearchConfig = strict(t.intersection([
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
  /** `data`: the digest of the data's contents where its name does not pin them (lib/data/identity.ts). */
  t.partial({ subset: PositiveInt, data: DataDigest }),
]), 'a search');
export type SearchConfig = t.TypeOf<typeof SearchConfig>;

export const decodeSearchConfig = (u: unknown): E.Either<OptbenchError, SearchConfig> =>
  pipe(
    SearchConfig.decode(u),
    E.mapLeft((errs) => reportErrors(errs, 'sweep config')),
  );

/** A trial's run: the sampled overrides, the held-out validation split, the full budget as its epochs. */
export const trialSpec = (c: SearchConfig, point: SpacePoint): RunSpec => ({
  dataset: c.dataset,
  ...(c.data !== undefined ? { data: c.data } : {}),
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

export const TrialStatus = t.keyof({ completed: null, stopped: null, failed: null, unfinished: null, 'not started': null }, 'a trial status');
export type TrialStatus = t.TypeOf<typeof TrialStatus>;

export const TrialRecord = t.readonly(
  t.type({
    trial: NonNegativeInt,
    point: SpacePoint,
    runId: t.string,
    /** Validation metric after each trained epoch (NaN, null in sweep.json, where it was not finite). */
    metrics: t.readonlyArray(JsonNumber),
    status: TrialStatus,
    error: nullable(t.string),
  }),
  'a trial record',
);
export type TrialRecord = t.TypeOf<typeof TrialRecord>;

export const SearchResult = t.readonly(
  t.type({
    config: SearchConfig,
    trials: t.readonlyArray(TrialRecord),
    /** The scheduler's state (ASHA only), as saved: rungs, each trial's metric at each rung. */
    asha: nullable(AshaState),
    /** Trial index of the chosen configuration: best validation metric at the full budget; null if none. */
    best: nullable(NonNegativeInt),
    interrupted: t.boolean,
  }),
  'a search result',
);
export type SearchResult = t.TypeOf<typeof SearchResult>;

const better = (c: SearchConfig, a: number, b: number): boolean => (c.direction === 'max' ? a > b : a < b);

/** The trial with the best validation metric after the full budget (the first such on a tie). */
/** The validation metric of an epoch: accuracy for classifiers, loss for VAEs (held-out images); NaN unevaluated. */
export const validationMetric = (e: { readonly test: { readonly loss: number; readonly accuracy: number | null } | null }): number =>
  e.test === null ? Number.NaN : (e.test.accuracy ?? e.test.loss);

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

/** `lr=0.00123, beta1=0.9`: three significant digits, enough to tell trials apart. */
export const formatValue = (v: number | boolean): string => (typeof v === 'boolean' ? String(v) : String(Number(v.toPrecision(3))));
export const formatPoint = (p: Readonly<Record<string, number | boolean>>): string =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(', ') || 'stock defaults';

/** Checks the numbers of a search that io-ts cannot (relations between fields). */
export const checkSearchConfig = (c: SearchConfig): E.Either<OptbenchError, SearchConfig> => {
  if (c.strategy === 'asha' && c.eta < 2)
    return E.left(invalidConfig({ path: 'eta', message: `--eta must be at least 2 (3 is the usual choice), got ${c.eta}.` }));
  if (c.strategy === 'asha' && c.minEpochs > c.epochs)
    return E.left(invalidConfig({ path: 'min-epochs', message: `--min-epochs (${c.minEpochs}) must not exceed --epochs (${c.epochs}).` }));
  return E.right(c);
};

export { AshaState };
