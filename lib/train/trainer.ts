import { identity, type Observable } from 'rxjs';
import type { RunSpec } from '../config/spec.js';
import type { Dataset } from '../data/types.js';
import { evaluate, type EvaluateOptions } from './evaluate.js';
import type { RunEvent } from './events.js';
import { runFit, type FitOptions } from './fit.js';

/** What a trainer is told about one run besides its spec. Plain data, so that it can travel with a job. */
export interface RunContext {
  /** Position of the run in its grid or search, 1-based, and how many runs there are. */
  readonly index: number;
  readonly total: number;
  /**
   * Evaluate where the model is, with these options, and emit evaluated events. Null: the trainer lends the
   * model with its events instead (in this process only) and `evaluate` downstream evaluates it.
   */
  readonly evaluation: EvaluateOptions | null;
  /** Stop with RunPaused once this many epochs are complete (ASHA's rungs); the spec's epochs for a grid. */
  readonly untilEpoch: number;
}

/**
 * Trains one run and reports it as RunEvents: the one seam through which grids, sweeps and tune train, and
 * where a run can leave the process (a queue of workers) and come back as the same events. A trainer emits
 * RunStarted, BatchEnded*, one EpochEnded per epoch it trains, then exactly one of RunEnded (the spec's last
 * epoch), RunPaused (`untilEpoch` reached first) or RunFailed (diverged, interrupted, bad name...); or
 * nothing at all for a run it skips (finished earlier, held by another process). EpochEnded and RunEnded are
 * evaluated when `ctx.evaluation` is given; otherwise the trainer lends the model with them (loan.ts), or,
 * if it cannot, leaves them unevaluated. Its Observable is cold; unsubscribing stops the run after the
 * current step. It errors (an OptbenchError) only when it cannot go on at all (a store that cannot be
 * written, a bug): a run's own failure is its RunFailed.
 */
export type RunTrainer = (spec: RunSpec, data: Dataset, ctx: RunContext) => Observable<RunEvent>;

/** `ctx.evaluation` applied to a run trained here: evaluated events, or the model lent downstream. */
export const evaluatedHere = (ctx: RunContext) => (ctx.evaluation === null ? identity : evaluate(ctx.evaluation));

/** Trains each run in this process with `runFit`. */
export const localTrainer =
  (opts: Omit<FitOptions, 'index' | 'total' | 'untilEpoch'> = {}): RunTrainer =>
  (spec, data, ctx) =>
    runFit(spec, data, { ...opts, index: ctx.index, total: ctx.total, untilEpoch: ctx.untilEpoch }).pipe(evaluatedHere(ctx));
