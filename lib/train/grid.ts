import { Observable, concatMap, from, takeWhile, type OperatorFunction } from 'rxjs';
import type { RunSpec } from '../config/spec.js';
import type { Dataset, Split } from '../data/types.js';
import type { RunEvent } from './events.js';
import { runFit, type FitOptions } from './fit.js';

export interface GridPlan {
  readonly dataset: string;
  readonly models: readonly string[];
  readonly optimizers: ReadonlyArray<{ name: string; overrides?: Record<string, number | boolean> }>;
  readonly preset: string;
  /** Seeds 0..seeds-1. */
  readonly seeds: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly backend: string;
  readonly subset?: number;
  readonly testSubset?: number;
  /** First seed (default 0). */
  readonly seedBase?: number;
}

/**
 * The grid's runs in the order they train: model by model, then seed by seed, then optimizer, so that a
 * partial grid already holds complete, comparable rows of a model's table.
 */
export const planGrid = (plan: GridPlan): RunSpec[] => {
  const specs: RunSpec[] = [];
  for (const model of plan.models)
    for (let s = 0; s < plan.seeds; s++)
      for (const o of plan.optimizers)
        specs.push({
          dataset: plan.dataset,
          model,
          optimizer: { name: o.name, preset: plan.preset, overrides: o.overrides ?? {} },
          seed: (plan.seedBase ?? 0) + s,
          epochs: plan.epochs,
          batchSize: plan.batchSize,
          backend: plan.backend,
          ...(plan.subset !== undefined ? { subset: plan.subset } : {}),
          ...(plan.testSubset !== undefined ? { testSubset: plan.testSubset } : {}),
        } as RunSpec);
  return specs;
};

const n = (x: number): string => x.toLocaleString('en-US');

/**
 * The plan as it will really run on `data`: a subset larger than the data is all of it, and a batch
 * larger than the training images is all of them (one step per epoch). The plan records what is used,
 * so that grid.json, the run ids and the protocol say what ran; each change comes with a note to show.
 */
export const fitPlanToData = (
  plan: GridPlan,
  data: { readonly name: string; readonly train: Pick<Split, 'count'>; readonly test: Pick<Split, 'count'> },
): { readonly plan: GridPlan; readonly notes: readonly string[] } => {
  const notes: string[] = [];
  let { subset, testSubset, batchSize } = plan;
  if (subset !== undefined && subset > data.train.count) {
    notes.push(`--subset ${n(subset)} is more than the ${n(data.train.count)} training images of ${data.name}: every run trains on all of them (recorded as subset ${n(data.train.count)}).`);
    subset = data.train.count;
  }
  const trainCount = subset ?? data.train.count;
  if (batchSize > trainCount) {
    notes.push(`--batch-size ${n(batchSize)} is more than the ${n(trainCount)} training images: each epoch is one step of all of them (recorded as batch size ${n(trainCount)}).`);
    batchSize = trainCount;
  }
  if (testSubset !== undefined && testSubset > data.test.count) {
    notes.push(`--test-subset ${n(testSubset)} is more than the ${n(data.test.count)} test images of ${data.name}: every run is evaluated on all of them (recorded as test subset ${n(data.test.count)}).`);
    testSubset = data.test.count;
  }
  return {
    plan: {
      ...plan,
      batchSize,
      ...(subset !== undefined ? { subset } : {}),
      ...(testSubset !== undefined ? { testSubset } : {}),
    },
    notes,
  };
};

/** Trains one run; `trainGrid` takes another (a fake in marble tests, a store-aware one in the CLI). */
export type RunTrainer = (spec: RunSpec, data: Dataset, ctx: { index: number; total: number }) => Observable<RunEvent>;

export interface GridOptions extends Omit<FitOptions, 'index' | 'total'> {
  readonly trainer?: RunTrainer;
}

const interruptedEvent = (e: RunEvent): boolean => e.type === 'RunFailed' && e.error._tag === 'Interrupted';

/**
 * Runs every spec, one after another, on each Dataset that arrives. A failed run (diverged, bad config)
 * does not stop the grid; an interrupted one does, after passing its RunFailed on.
 */
export const trainGrid =
  (specs: readonly RunSpec[], opts: GridOptions = {}): OperatorFunction<Dataset, RunEvent> =>
  (source) =>
    source.pipe(
      concatMap((data) =>
        from(specs.map((spec, i) => ({ spec, index: i + 1 }))).pipe(
          concatMap(({ spec, index }) =>
            (opts.trainer ?? ((s, d, ctx) => runFit(s, d, { ...opts, ...ctx })))(spec, data, {
              index,
              total: specs.length,
            }),
          ),
          takeWhile((e) => !interruptedEvent(e), true),
        ),
      ),
    );
