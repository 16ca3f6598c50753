import * as E from 'fp-ts/lib/Either.js';
import { concatMap, defer, of, type Observable } from 'rxjs';
import { decodeWith, runLabel } from '../config/spec.js';
import { invalidConfig, type OptbenchError } from '../errors.js';
import { raise } from '../observable.js';
import { isRunEvent, isTerminal, type EpochEnded, type RunStarted, type StreamEvent } from './events.js';
import type { EpochRecord } from './record.js';
import { firstReached, heldOutMetrics, judged, meets, targetText, Targets, type Target, type TargetReached } from './target.js';

export interface ReachTargetOptions {
  /**
   * The epochs a run stored before it was resumed (a store's `runEpochs`): a run resumed after epoch k
   * counts its training seconds from epoch 1, and may have met its target already. Without it, a resumed
   * run is an InvalidConfig on the error channel (its time to target would be wrong).
   */
  readonly history?: (runId: string) => E.Either<OptbenchError, readonly EpochRecord[]>;
}

interface RunState {
  readonly label: string;
  readonly target: Target;
  /** Training steps per epoch, from RunStarted. */
  readonly steps: number;
  /** Training milliseconds of every epoch so far. */
  ms: number;
  reached: boolean;
}

const reachedEvent = (runId: string, s: RunState, epoch: number, value: number): TargetReached => ({
  type: 'TargetReached',
  runId,
  metric: s.target.metric,
  goal: s.target.goal,
  value,
  epoch,
  step: epoch * s.steps,
  seconds: s.ms / 1000,
});

/** A run resumed after epoch k: its first k epochs, from `history`, or why they cannot be had. */
const earlier = (e: RunStarted, opts: ReachTargetOptions): E.Either<OptbenchError, readonly EpochRecord[]> => {
  const label = runLabel(e.spec);
  if (opts.history === undefined)
    return E.left(
      invalidConfig({
        path: 'reachTarget.history',
        message: `${label} resumed after epoch ${e.fromEpoch}: reachTarget needs its earlier epochs to count its training time (give it history, e.g. (id) => store.runEpochs(id)).`,
      }),
    );
  return E.chain((epochs: readonly EpochRecord[]): E.Either<OptbenchError, readonly EpochRecord[]> => {
    const kept = epochs.filter((x) => x.epoch <= e.fromEpoch);
    return kept.length === e.fromEpoch
      ? E.right(kept)
      : E.left(
          invalidConfig({
            path: 'reachTarget.history',
            message: `${label} resumed after epoch ${e.fromEpoch}, but its history holds ${kept.length} of those epochs: its time to target cannot be counted.`,
          }),
        );
  })(opts.history(e.runId));
};

/**
 * Watches every run whose model has a target (`targets`, by model name) and emits TargetReached right
 * after the EpochEnded on which its held-out metrics first meet it: the epoch, the step that ended it and
 * the training seconds up to it (the sum of the epochs' `trainMs`; evaluation time is not counted). The
 * target is judged on held-out images only (the epoch's `validation`, or its evaluation when that was on
 * the validation split), never on the test set: an epoch of a judged run without them is an InvalidConfig
 * on the error channel (put reachTarget after `evaluate({ split: 'test', heldOut: true })`, for specs with
 * a `holdout`). Runs of models without a target, and every other event, pass unchanged. A resumed run
 * continues from its stored epochs (`history`), and a target it had already met is emitted again after
 * its RunStarted, so that a record lost with the process that met it is written again.
 *
 * Cold: the runs' state is made per subscription. Bad targets are an InvalidConfig at subscription.
 */
export const reachTarget =
  (targets: Targets, opts: ReachTargetOptions = {}) =>
  <E extends StreamEvent>(source: Observable<E>): Observable<E | TargetReached> =>
    defer(() => {
      const decoded = decodeWith(Targets, 'targets', 'targets')(targets);
      if (E.isLeft(decoded)) return raise(decoded.left);
      const goals = decoded.right;
      const runs = new Map<string, RunState>();

      const started = (e: RunStarted): Observable<E | TargetReached> => {
        const target = goals[e.spec.model];
        if (target === undefined) return of(e as unknown as E);
        const s: RunState = { label: runLabel(e.spec), target, steps: e.steps, ms: 0, reached: false };
        runs.set(e.runId, s);
        if (e.fromEpoch === 0) return of(e as unknown as E);
        const before = earlier(e, opts);
        if (E.isLeft(before)) return raise(before.left);
        const judgedEpochs = before.right.map((x) => ({ epoch: x.epoch, trainMs: x.trainMs, heldOut: x.validation ?? null }));
        const hit = firstReached(target, judgedEpochs);
        s.ms = before.right.reduce((ms, x) => ms + x.trainMs, 0);
        if (hit === null) return of(e as unknown as E);
        s.reached = true;
        const msThen = judgedEpochs.filter((x) => x.epoch <= hit.epoch).reduce((ms, x) => ms + x.trainMs, 0);
        return of(e as unknown as E, reachedEvent(e.runId, { ...s, ms: msThen }, hit.epoch, hit.value));
      };

      const epoch = (e: EpochEnded): Observable<E | TargetReached> => {
        const s = runs.get(e.runId);
        if (s === undefined || s.reached) return of(e as unknown as E);
        s.ms += e.trainMs;
        const held = heldOutMetrics(e);
        if (held === null)
          return raise(
            invalidConfig({
              path: 'reachTarget',
              message:
                `Epoch ${e.epoch} of ${s.label} has no held-out metrics to judge its target (${targetText(s.target)}) on, and a target is never judged on the test set: ` +
                `give its spec a holdout and put reachTarget after evaluate({ split: 'test', heldOut: true }).`,
            }),
          );
        if (!meets(s.target, held)) return of(e as unknown as E);
        s.reached = true;
        return of(e as unknown as E, reachedEvent(e.runId, s, e.epoch, judged(s.target, held)!));
      };

      return source.pipe(
        concatMap((e): Observable<E | TargetReached> => {
          if (!isRunEvent(e)) return of(e);
          if (e.type === 'RunStarted') return started(e);
          if (e.type === 'EpochEnded') return epoch(e);
          if (isTerminal(e)) runs.delete(e.runId);
          return of(e);
        }),
      );
    });
