import { strict as assert } from 'node:assert';
import { catchError, of, type OperatorFunction, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { OptbenchFailure } from '../errors.js';
import { TestScheduler } from 'rxjs/testing';

/** A TestScheduler that compares frames with node's deepStrictEqual (mocha, node:test, ...). */
export const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => assert.deepStrictEqual(actual, expected));

/**
 * `inner`, with every piece of work (and every rescheduling of it) `paceMs` later: with a TestScheduler,
 * each training step of a run takes `paceMs` frames of virtual time, so a marble test of a whole fit shows
 * when progress, epochs and the end arrive, and the runtime's clock (`now()`) moves as the steps go.
 */
export const pacedScheduler = (inner: SchedulerLike, paceMs: number): SchedulerLike => ({
  now: () => inner.now(),
  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    return inner.schedule<T>(
      function (this: SchedulerAction<T>, s?: T) {
        const action = this;
        // The action as `work` sees it: the same, but a reschedule waits `paceMs` more.
        const paced = Object.create(action) as SchedulerAction<T>;
        paced.schedule = (next?: T, d = 0) => action.schedule(next, d + paceMs);
        work.call(paced, s);
      },
      delay + paceMs,
      state,
    );
  },
});

/**
 * What an error on an Observable's error channel is, as a string a marble can compare: `Tag: message`
 * for an OptbenchFailure (with the field's path for an InvalidConfig), and says so for anything else.
 */
export const describeFailure = (e: unknown): string =>
  e instanceof OptbenchFailure
    ? `${e._tag}${e.error._tag === 'InvalidConfig' ? ` at ${e.error.path}` : ''}: ${e.message}`
    : `not an OptbenchFailure: ${String(e)}`;

/** An operator that turns an error into its description (then completes), for marbles. */
export const failureAsValue = <T>(): OperatorFunction<T, T | string> => catchError((e: unknown) => of(describeFailure(e)));
