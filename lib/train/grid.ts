import { Observable, concatMap, from, takeWhile, type OperatorFunction } from 'rxjs';
import type { Precision, RunSpec } from '../config/spec.js';
import type { Dataset } from '../data/types.js';
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
  /** Precision of convolutions and products; 'fp32' (the default) is left out of the specs. */
  readonly precision?: Precision;
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
          ...(plan.precision === 'bf16' ? { precision: plan.precision } : {}),
        } as RunSpec);
  return specs;
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
