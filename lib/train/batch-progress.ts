import { filter, map, type OperatorFunction } from 'rxjs';
import { defer } from 'rxjs';
import type { StepResult } from './epoch-steps.js';
import type { BatchEnded } from './events.js';
import type { Run } from './run.js';

/** An epoch's running totals after each step (Keras's running means are their ratios). */
export interface EpochTotals {
  readonly step: number;
  readonly lossSum: number;
  readonly correctSum: number;
  readonly seen: number;
}

export const NO_STEPS: EpochTotals = { step: 0, lossSum: 0, correctSum: 0, seen: 0 };

/** The totals after one more step: each batch's mean loss weighted by its size, as Keras's `fit` reports. */
export const addStep = (t: EpochTotals, s: StepResult): EpochTotals => ({
  step: s.step,
  lossSum: t.lossSum + s.loss * s.size,
  correctSum: t.correctSum + s.correct,
  seen: t.seen + s.size,
});

/**
 * The progress an epoch reports: BatchEnded with the running mean loss, at most every `everyMs` of the
 * runtime's clock and always at the epoch's last step. BatchEnded is never persisted: it is for eyes.
 */
export const batchProgress =
  (run: Run, epoch: number, t0: number, everyMs: number): OperatorFunction<EpochTotals, BatchEnded> =>
  (totals) =>
    defer(() => {
      let lastShown = -Infinity;
      let now = 0;
      return totals.pipe(
        filter((t) => {
          now = run.runtime.scheduler.now();
          if (t.step !== run.steps && now - lastShown < everyMs) return false;
          lastShown = now;
          return true;
        }),
        map((t) => ({ type: 'BatchEnded', runId: run.id, epoch, step: t.step, steps: run.steps, loss: t.lossSum / t.seen, elapsedMs: now - t0 }) as const),
      );
    });
