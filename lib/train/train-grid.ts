import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { EMPTY, concat, concatMap, defer, from, mergeMap, of, tap, throwError, type OperatorFunction } from 'rxjs';
import { PositiveInt, decodeRunSpec, decodeWith, type RunSpec } from '../config/spec.js';
import type { Dataset } from '../data/types.js';
import type { OptbenchError } from '../errors.js';
import { EvaluateOptions } from './evaluate.js';
import type { GridEvent, RunEvent } from './events.js';
import type { FitOptions } from './fit.js';
import { planGrid, type GridPlan } from './plan.js';
import { localTrainer, type RunTrainer } from './trainer.js';

/** The data part of trainGrid's options, decoded at subscription. */
const GridSettings = t.partial({
  /** Runs in flight at once (default 1: one after another). */
  concurrency: PositiveInt,
  /** Evaluation that travels with every run to its trainer (see RunContext.evaluation); default null. */
  evaluate: t.union([EvaluateOptions, t.null]),
});

export interface GridOptions extends Omit<FitOptions, 'index' | 'total' | 'untilEpoch'> {
  /** Trains each run (default: `localTrainer` with the other options here). */
  readonly trainer?: RunTrainer;
  readonly concurrency?: number;
  readonly evaluate?: EvaluateOptions | null;
}

/** The specs of a list or a plan, decoded: a field of the wrong type is an InvalidConfig naming its path. */
const gridSpecs = (grid: readonly RunSpec[] | GridPlan): E.Either<OptbenchError, RunSpec[]> => {
  if (!Array.isArray(grid)) return planGrid(grid as GridPlan);
  const specs: RunSpec[] = [];
  for (const [i, s] of (grid as readonly unknown[]).entries()) {
    const d = decodeRunSpec(s, `specs[${i}]`);
    if (E.isLeft(d)) return d;
    specs.push(d.right);
  }
  return E.right(specs);
};

const interruptedEvent = (e: RunEvent): boolean => e.type === 'RunFailed' && e.error._tag === 'Interrupted';

/**
 * Trains every run of a grid (a list of RunSpecs, or a GridPlan) on each Dataset that arrives: GridStarted,
 * then the runs' events, `concurrency` runs at a time, each through `trainer`. A failed run (diverged, bad
 * name) does not stop the grid; an interrupted one stops it from starting more runs (the runs in flight end
 * on their own). Specs or options that do not decode are an InvalidConfig on the error channel, before
 * anything is trained. Unsubscribing stops the runs in flight after their current step.
 */
export const trainGrid =
  (grid: readonly RunSpec[] | GridPlan, opts: GridOptions = {}): OperatorFunction<Dataset, GridEvent> =>
  (source) =>
    defer(() => {
      const { trainer, concurrency: _c, evaluate: _e, ...fit } = opts;
      const settings = decodeWith(GridSettings, 'trainGrid options')({ concurrency: opts.concurrency, evaluate: opts.evaluate });
      if (E.isLeft(settings)) return throwError(() => settings.left);
      const decoded = gridSpecs(grid);
      if (E.isLeft(decoded)) return throwError(() => decoded.left);
      const specs = decoded.right;
      const train = trainer ?? localTrainer(fit);
      const evaluation = settings.right.evaluate ?? null;
      return source.pipe(
        concatMap((data) => {
          let stopped = false;
          const runs = from(specs.map((spec, i) => ({ spec, index: i + 1 }))).pipe(
            mergeMap(
              ({ spec, index }) =>
                defer(() => (stopped ? EMPTY : train(spec, data, { index, total: specs.length, evaluation, untilEpoch: spec.epochs }))).pipe(
                  tap((e) => {
                    if (interruptedEvent(e)) stopped = true;
                  }),
                ),
              settings.right.concurrency ?? 1,
            ),
          );
          const started: GridEvent = { type: 'GridStarted', specs, dataset: data.name, classNames: data.classNames };
          return concat(of(started), runs);
        }),
      );
    });
