import * as t from 'io-ts';
import * as A from 'fp-ts/lib/ReadonlyArray.js';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { EMPTY, concat, concatMap, defer, from, mergeMap, of, tap, type OperatorFunction } from 'rxjs';
import { AnObject, Fn, strict } from '../config/codecs.js';
import { NonNegativeInt, PositiveInt, decodeRunSpec, decodeWith, runDisplayLabel, type RunSpec } from '../config/spec.js';
import { specData } from '../data/identity.js';
import { checkSpecData } from './spec-checks.js';
import type { Dataset } from '../data/types.js';
import type { OptbenchError } from '../errors.js';
import { EvaluateOptions } from './evaluate.js';
import type { GridEvent, RunEvent } from './events.js';
import type { FitOptions } from './fit.js';
import { planGrid, type GridPlan } from './plan.js';
import { localTrainer, type RunTrainer } from './trainer.js';
import { raise } from '../observable.js';

/** The data part of trainGrid's options, decoded at subscription. */
const GridSettings = strict(
  t.partial({
    /** Runs in flight at once (default 1: one after another). */
    concurrency: PositiveInt,
    /** Evaluation that travels with every run to its trainer (see RunContext.evaluation); default null. */
    evaluate: t.union([EvaluateOptions, t.null]),
    trainer: Fn,
    // The local trainer's options (runFit's, but for a run's place in the grid and its epochs).
    runtime: AnObject,
    checkpointer: AnObject,
    shouldStop: Fn,
    progressEveryMs: NonNegativeInt,
  }),
  'trainGrid options',
);

export interface GridOptions extends Omit<FitOptions, 'index' | 'total' | 'untilEpoch'> {
  /** Trains each run (default: `localTrainer` with the other options here). */
  readonly trainer?: RunTrainer;
  readonly concurrency?: number;
  readonly evaluate?: EvaluateOptions | null;
}

/** The specs of a list, decoded: a field of the wrong type is an InvalidConfig naming its path. */
const listedSpecs = (grid: readonly unknown[]): E.Either<OptbenchError, readonly RunSpec[]> =>
  pipe(
    grid,
    A.traverseWithIndex(E.Applicative)((i, s) => decodeRunSpec(s, `specs[${i}]`)),
  );

/**
 * The specs a grid trains on `data`: a list as given, a plan planned for the data (its digest filled in
 * where the data's name does not pin its contents: two data sets never share a run id). Either way each
 * spec must name the data it is given; one that does not is an InvalidConfig naming both.
 */
const specsFor = (grid: readonly RunSpec[] | GridPlan, data: Dataset): E.Either<OptbenchError, readonly RunSpec[]> =>
  pipe(
    Array.isArray(grid) ? listedSpecs(grid) : planGrid({ ...(grid as GridPlan), ...specData(data), dataset: (grid as GridPlan).dataset }),
    E.tap((specs) =>
      pipe(
        specs,
        A.traverseWithIndex(E.Applicative)((i, s) => checkSpecData(s, data, `specs[${i}] (${runDisplayLabel(s)})`)),
      ),
    ),
  );

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
      const settings = decodeWith(GridSettings, 'trainGrid options')(opts);
      if (E.isLeft(settings)) return raise(settings.left);
      // A list that does not decode is refused before any data arrives; the checks against the data follow.
      const decoded = Array.isArray(grid) ? listedSpecs(grid) : planGrid(grid as GridPlan);
      if (E.isLeft(decoded)) return raise(decoded.left);
      const train = trainer ?? localTrainer(fit);
      const evaluation = settings.right.evaluate ?? null;
      return source.pipe(
        concatMap((data) => {
          const forData = specsFor(grid, data);
          if (E.isLeft(forData)) return raise(forData.left);
          const specs = forData.right;
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
