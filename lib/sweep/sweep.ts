import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { EMPTY, concat, concatMap, defer, of, tap, type Observable, type OperatorFunction } from 'rxjs';
import { PositiveInt, decodeWith, runId, type RunSpec } from '../config/spec.js';
import type { Dataset } from '../data/types.js';
import { invalidConfig, type OptbenchError } from '../errors.js';
import { fitPlanToData, planGrid, type GridPlan } from '../train/plan.js';
import { specData } from '../data/identity.js';
import { checkSpecData } from '../train/spec-checks.js';
import { trainGrid } from '../train/train-grid.js';
import { localTrainer, type RunTrainer } from '../train/trainer.js';
import type { SweepEvent } from './events.js';
import { savedAshaState, type FinalGroup, type SweepRecord } from './record.js';
import { searchTrials } from './search-trials.js';
import { SearchConfig, type SearchResult } from './search.js';
import { toOverrides } from './space.js';
import type { HistoryOf } from './trial.js';
import { raise } from '../observable.js';
import { strict } from '../config/codecs.js';

/** A sweep (one search) or a tune (one per optimizer), then the retraining of what they chose. */
export const SweepSpec = strict(t.intersection([
  t.type({
    kind: t.union([t.literal('sweep'), t.literal('tune')]),
    title: t.string,
    searches: t.array(SearchConfig),
    /** Seeds of the final retraining on all training images. */
    seeds: PositiveInt,
    /** Also retrain each optimizer's stock defaults with the same seeds (tune's side-by-side table). */
    withDefaults: t.boolean,
    /** Trials (and retraining runs) in flight at once. */
    concurrency: PositiveInt,
  }),
  t.partial({ testSubset: PositiveInt }),
]), 'a sweep');
export type SweepSpec = t.TypeOf<typeof SweepSpec>;

const decodeSweepSpec = decodeWith(SweepSpec, 'sweep');

export interface SweepOptions {
  /** Trains every trial and retraining run (default `localTrainer()`). */
  readonly trainer?: RunTrainer;
  /** What earlier invocations stored of each trial (`storeHistory(store)`). */
  readonly history?: HistoryOf;
  /** The sweep record an earlier invocation left (sweep.json): ASHA continues from its saved state. */
  readonly saved?: SweepRecord | null;
  /** Polled between jobs: when true, no new trial or search starts and nothing is retrained. */
  readonly shouldStop?: () => boolean;
}

/**
 * The retraining's protocol for `optimizers`: the searches' model, preset and sizes, all training images
 * (or the searches' subset), `seeds` seeds, fitted to the data (see fitPlanToData) so that what grid.json
 * records is what runs. A sweep's directory holds this one protocol, checked before the first trial.
 */
export const retrainGridPlan = (spec: SweepSpec, optimizers: GridPlan['optimizers'], data: Dataset): GridPlan => {
  const first = spec.searches[0]!;
  return fitPlanToData(
    {
      dataset: first.dataset,
      models: [first.model],
      optimizers,
      preset: first.preset,
      seeds: spec.seeds,
      epochs: first.epochs,
      batchSize: first.batchSize,
      backend: first.backend,
      ...(first.subset !== undefined ? { subset: first.subset } : {}),
      ...(spec.testSubset !== undefined ? { testSubset: spec.testSubset } : {}),
    },
    data,
  ).plan;
};

/** The retraining: the chosen configuration of each search (and the stock defaults for tune). */
const retrainPlan = (
  spec: SweepSpec,
  searches: readonly SearchResult[],
  data: Dataset,
): E.Either<OptbenchError, { plan: GridPlan; groups: FinalGroup[] } | null> => {
  const optimizers: Array<{ name: string; overrides: Record<string, number> }> = [];
  const roles: Array<FinalGroup['role']> = [];
  for (const s of searches) {
    if (s.best === null) continue;
    if (spec.withDefaults) {
      optimizers.push({ name: s.config.optimizer, overrides: {} });
      roles.push('default');
    }
    optimizers.push({ name: s.config.optimizer, overrides: toOverrides(s.trials[s.best]!.point) });
    roles.push('tuned');
  }
  if (optimizers.length === 0) return E.right(null);
  const plan = retrainGridPlan(spec, optimizers, data);
  return E.map((specs: readonly RunSpec[]) => ({
    plan,
    groups: optimizers.map(
      (o, i): FinalGroup => ({
        optimizer: o.name,
        role: roles[i]!,
        overrides: o.overrides,
        runIds: specs.filter((s) => s.optimizer.name === o.name && JSON.stringify(s.optimizer.overrides) === JSON.stringify(o.overrides)).map(runId),
      }),
    ),
  }))(planGrid(plan));
};

/**
 * A sweep or a tune on each Dataset that arrives, as one stream: SweepStarted, each search in turn
 * (`searchTrials`: trials on held-out images, `concurrency` at a time), then RetrainStarted and the chosen
 * configurations retrained on all training images with `seeds` seeds and tested (`trainGrid`), every run
 * through the one trainer. An interrupted search ends the sweep there. A spec that does not decode is an
 * InvalidConfig on the error channel.
 */
export const sweep =
  (input: SweepSpec, opts: SweepOptions = {}): OperatorFunction<Dataset, SweepEvent> =>
  (source) =>
    defer(() => {
      const decoded = decodeSweepSpec(input);
      if (E.isLeft(decoded)) return raise(decoded.left);
      const spec = decoded.right;
      if (spec.searches.length === 0) return raise(invalidConfig({ path: 'searches', message: 'A sweep needs at least one search.' }));
      const trainer = opts.trainer ?? localTrainer();
      const stop = (): boolean => opts.shouldStop?.() ?? false;
      return source.pipe(
        concatMap((data): Observable<SweepEvent> => {
          // Each search names the data it is given, by its digest too where its name does not pin it.
          const { data: digest } = specData(data);
          const configs = spec.searches.map((c) => ({ ...c, ...(digest !== undefined ? { data: digest } : {}) }));
          const wrong = configs.map((c, i) => checkSpecData(c, data, `searches[${i}] (${c.model}/${c.optimizer})`)).find(E.isLeft);
          if (wrong !== undefined) return raise(wrong.left);
          const resume = configs.map((c) => savedAshaState(opts.saved ?? null, c));
          const bad = resume.find(E.isLeft);
          if (bad !== undefined) return raise(bad.left);
          const results: SearchResult[] = [];
          let stopped = false;
          const searches = configs.map((c, i) =>
            defer(() =>
              stopped || stop()
                ? EMPTY
                : of(data).pipe(
                    searchTrials(c, {
                      trainer,
                      concurrency: spec.concurrency,
                      resumeFrom: E.getOrElseW(() => null)(resume[i]!),
                      ...(opts.history ? { history: opts.history } : {}),
                      ...(opts.shouldStop ? { shouldStop: opts.shouldStop } : {}),
                    }),
                    tap((e) => {
                      if (e.type !== 'SearchEnded') return;
                      results.push(e.result);
                      if (e.result.interrupted) stopped = true;
                    }),
                  ),
            ),
          );
          const retrain = defer((): Observable<SweepEvent> => {
            if (stopped || stop()) return EMPTY;
            const final = retrainPlan(spec, results, data);
            if (E.isLeft(final)) return raise(final.left);
            if (final.right === null) return EMPTY;
            return concat(
              of<SweepEvent>({ type: 'RetrainStarted', groups: final.right.groups, seeds: spec.seeds }),
              of(data).pipe(trainGrid(final.right.plan, { trainer, concurrency: spec.concurrency, evaluate: { split: 'test' } })),
            );
          });
          return concat(of<SweepEvent>({ type: 'SweepStarted', spec }), ...searches, retrain);
        }),
      );
    });
