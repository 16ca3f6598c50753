import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { EMPTY, concat, defer, expand, from, mergeMap, of, type Observable } from 'rxjs';
import { runId } from '../config/spec.js';
import type { Dataset } from '../data/types.js';
import type { OptbenchError } from '../errors.js';
import { ashaNext, ashaReport, ashaResume, createAsha, type AshaJob, type AshaState, type AshaTrial } from './asha.js';
import type { SweepEvent } from './events.js';
import type { SearchRunOptions } from './full-search.js';
import { bestTrial, trialSpec, type SearchConfig, type SearchResult, type TrialRecord, type TrialStatus } from './search.js';
import type { SpacePoint } from './space.js';
import { trainTrial, type TrialHistory } from './trial.js';
import { raise } from '../observable.js';

/** An item of the scheduling stream: a job to start, or an event to pass on. */
type Step = { readonly job: AshaJob } | { readonly event: SweepEvent };

/**
 * ASHA as a stream: whenever a slot is free the scheduler is asked for a job (a promotion of the best
 * trial of the highest rung that has one, else a new trial), the trial trains up to the job's rung and
 * reports its validation metric there, and every finished job asks again for as many jobs as there are free
 * slots. `expand` turns each finished job into the jobs it opens up, so no worker ever waits for a full
 * rung. Reports are applied in the order their jobs were issued, each followed by the decisions it allows,
 * so the search decides the same whichever job finishes first (a finished job waits for those issued
 * before it; with a bounded concurrency its slot may idle meanwhile). The state after every decision is a
 * SearchUpdated (a killed sweep resumes from it: a job in flight is issued again first); a trial that
 * stopped short of its rung (Ctrl-C, held elsewhere) leaves its job in flight for that resumption.
 */
export const ashaSearch = (
  c: SearchConfig,
  points: readonly SpacePoint[],
  data: Dataset,
  opts: SearchRunOptions & { readonly resumeFrom?: AshaState | null },
): Observable<SweepEvent> =>
  defer(() =>
    pipe(
      opts.resumeFrom
        ? E.right<OptbenchError, AshaState>(ashaResume(opts.resumeFrom))
        : createAsha({ minResource: c.minEpochs, maxResource: c.epochs, eta: c.eta, trials: points.length, direction: c.direction }),
      E.bindTo('start'),
      // Trials that reported in an earlier invocation: their curves come from what was stored.
      E.bind('stored', ({ start }) =>
        E.traverseArray((tr: AshaTrial) =>
          opts.history === undefined
            ? E.right([tr.id, []] as const)
            : E.map((h: TrialHistory) => [tr.id, h.metrics] as const)(opts.history(runId(trialSpec(c, points[tr.id]!)))),
        )(start.trials),
      ),
      E.match(raise, ({ start, stored }) => searchFrom(c, points, data, opts, start, stored)),
    ),
  );

/** The search from its scheduler's first state, with the stored curve of each trial it has started. */
const searchFrom = (
  c: SearchConfig,
  points: readonly SpacePoint[],
  data: Dataset,
  opts: SearchRunOptions,
  start: AshaState,
  stored: readonly (readonly [number, readonly number[]])[],
): Observable<SweepEvent> => {
  let state: AshaState = start;
  const metrics: (readonly number[])[] = points.map(() => []);
  for (const [id, curve] of stored) metrics[id] = curve;
  const errors: (string | null)[] = points.map(() => null);
  let running = 0;
  let interrupted = false;
  // Reports are applied in the order their jobs were issued, not the order they finish in, so that the
  // decisions do not depend on which job finishes first: over the queue a rung's trials are all in
  // flight at once and their results arrive in any order. A finished job waits here for those issued
  // before it.
  const issued: AshaJob[] = [];
  const finished = new Map<AshaJob, number>();
  const history = opts.history;

  const records = (): TrialRecord[] =>
    points.map((point, trial) => {
      const tr = state.trials[trial];
      const status: TrialStatus =
        tr === undefined
          ? 'not started'
          : errors[trial] !== null || tr.metrics.some((x) => x === null)
            ? 'failed'
            : tr.metrics.length === state.rungs.length
              ? 'completed'
              : tr.running === null
                ? 'stopped'
                : 'unfinished';
      return { trial, point, runId: runId(trialSpec(c, point)), metrics: metrics[trial]!, status, error: errors[trial]! };
    });
  const result = (): SearchResult => {
    const trials = records();
    return { config: c, trials, asha: state, best: bestTrial(c, trials), interrupted };
  };
  const updated = (): Step => ({ event: { type: 'SearchUpdated', result: result() } });

  /** Jobs for the free slots, each announced with the state that holds it in flight. */
  const decide = (): Step[] => {
    const steps: Step[] = [];
    while (!interrupted && running < opts.concurrency) {
      if (opts.shouldStop?.()) {
        interrupted = true;
        break;
      }
      const { decision, state: after } = ashaNext(state);
      if (decision === 'wait' || decision === 'done') break;
      state = after;
      running++;
      issued.push(decision);
      steps.push(updated(), { job: decision });
    }
    return steps;
  };

  const runJob = (job: AshaJob): Observable<Step> => {
    const ctx = { index: job.trial + 1, total: points.length, untilEpoch: job.resource };
    return trainTrial(opts.trainer, data, trialSpec(c, points[job.trial]!), ctx, history, metrics[job.trial]!, (r): Observable<Step> => {
      running--;
      if (r.metrics.length > metrics[job.trial]!.length) metrics[job.trial] = r.metrics;
      if (r.interrupted) {
        interrupted = true;
        return of(updated());
      }
      errors[job.trial] = r.failed;
      finished.set(job, r.failed !== null ? NaN : (r.metrics[job.resource - 1] ?? NaN));
      // Each report applied is followed by the decisions it allows, as if it had arrived alone.
      const steps: Step[] = [];
      for (let head = issued[0]; head !== undefined && finished.has(head); head = issued[0]) {
        issued.shift();
        const reported = ashaReport(state, head.trial, head.rung, finished.get(head)!);
        finished.delete(head);
        if (E.isLeft(reported)) return raise(reported.left);
        state = reported.right;
        steps.push(updated(), ...decide());
      }
      return from(steps.length > 0 ? steps : [updated()]);
    }).pipe(mergeMap((x): Observable<Step> => ('type' in x ? of({ event: x }) : of(x))));
  };

  const scheduled = defer(() => from([updated(), ...decide()])).pipe(
    expand((step) => ('job' in step ? runJob(step.job) : EMPTY)),
    mergeMap((step) => ('event' in step ? of(step.event) : EMPTY)),
  );
  return concat(scheduled, defer(() => of<SweepEvent>({ type: 'SearchEnded', result: result() })));
};
