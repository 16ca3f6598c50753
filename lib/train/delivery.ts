import { Observable } from 'rxjs';
import type { OptbenchError } from '../errors.js';
import type { EpochEnded, RunEnded } from './events.js';
import { lend, revoke, type ModelLoan } from './loan.js';
import type { Run } from './run.js';

/**
 * Why a run ends early (diverged, interrupted, refused by a stage), on an Observable's error channel
 * inside runFit, where it becomes the run's RunFailed. An Error, as RxJS users expect, carrying the
 * tagged OptbenchError and how many epochs the run had completed.
 */
export class RunStop extends Error {
  constructor(
    readonly error: OptbenchError,
    readonly epochsDone: number,
  ) {
    super(error.message);
    this.name = 'RunStop';
  }
}

/**
 * Emits `event` with a model lent beside it (loan.ts): every synchronous stage downstream (`evaluate`,
 * `persist`, a user's own) may borrow the model while the delivery lasts, then the loan is revoked. A stage
 * that asks the run to end (`loan.fail`) makes this an error: RunStop with that reason, after `epochsDone`
 * epochs. This is how runFit delivers; a trainer of a user's own can lend the same way.
 */
export const deliverWithLoan = <E extends EpochEnded | RunEnded>(event: E, loan: Omit<ModelLoan, 'fail'>, epochsDone: number): Observable<E> =>
  new Observable<E>((subscriber) => {
    let failure: OptbenchError | null = null;
    lend(event, { ...loan, fail: (e) => void (failure ??= e) });
    try {
      subscriber.next(event);
    } finally {
      revoke(event);
    }
    if (failure !== null) subscriber.error(new RunStop(failure, epochsDone));
    else subscriber.complete();
  });

/** `event` delivered with the run's model, as it is after the epochs done (its reference for divergence). */
export const deliverLent = (
  run: Run,
  event: EpochEnded | RunEnded,
  progress: { readonly reference: number },
  epochsDone: number,
): Observable<EpochEnded | RunEnded> =>
  // An evaluation through the loan runs in the run's precision, at its optimizer's evaluation point.
  deliverWithLoan(event, { model: run.model, spec: run.spec, data: run.data, reference: progress.reference, compute: run.evaluation }, epochsDone);
