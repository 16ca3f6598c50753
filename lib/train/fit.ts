import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import {
  EMPTY,
  Observable,
  catchError,
  concat,
  concatMap,
  connect,
  defer,
  finalize,
  ignoreElements,
  last,
  merge,
  of,
  range,
  scan,
  } from 'rxjs';
import * as t from 'io-ts';
import { AnObject, Fn, strict } from '../config/codecs.js';
import { NonNegativeInt, PositiveInt, decodeRunSpec, decodeWith, runId, type RunSpec } from '../config/spec.js';
import type { Dataset } from '../data/types.js';
import { interrupted, invalidConfig, toOptbenchError, type OptbenchError } from '../errors.js';
import type { BuiltModel } from '../models/types.js';
import { countParameters } from '../models/weights.js';
import { batchProgress, addStep, NO_STEPS, type EpochTotals } from './batch-progress.js';
import { deliverLent, RunStop } from './delivery.js';
import { guardDivergence } from './divergence.js';
import { epochSteps } from './epoch-steps.js';
import type { EpochEnded, RunEnded, RunEvent } from './events.js';
import { prepareRun, type Run } from './run.js';
import { builtInRuntime, type Runtime } from './runtime.js';
import { checkSpecAgainst } from './spec-checks.js';
import { raise } from '../observable.js';

/**
 * Saves and restores a run's state at epoch boundaries (the store provides one for a run directory, the
 * queue's worker one that commits to Redis; see lib/store and lib/queue). Each returns a cold Observable
 * that completes when done and errors with an OptbenchError when it cannot.
 */
export interface Checkpointer {
  /** Restores model and optimizer state if a checkpoint exists; emits the epoch it was taken after (0 if none). */
  restore(runId: string, model: BuiltModel, optimizer: tf.Optimizer): Observable<number>;
  save(runId: string, epoch: number, model: BuiltModel, optimizer: tf.Optimizer): Observable<void>;
  /** The run finished: its checkpoint is no longer needed. */
  discard(runId: string): Observable<void>;
}

export interface FitOptions {
  /** Position of this run in its grid (1-based) and the grid's size, for progress. */
  readonly index?: number;
  readonly total?: number;
  /** What the run computes with (backend, registries, scheduler and clock); default: builtInRuntime(). */
  readonly runtime?: Runtime;
  readonly checkpointer?: Checkpointer;
  /** Asked before every step: when true the run stops there with RunFailed{Interrupted}. */
  readonly shouldStop?: () => boolean;
  /** Emit BatchEnded at most this often (ms of the runtime's clock); 0 emits after every step. */
  readonly progressEveryMs?: number;
  /** Stop once this many epochs are complete, with RunPaused (an ASHA rung); default: the spec's epochs. */
  readonly untilEpoch?: number;
}

/** runFit's options as they are checked: the numbers' ranges, and no option it does not have. */
export const FitOptionsCodec = strict(
  t.partial({
    index: PositiveInt,
    total: PositiveInt,
    runtime: AnObject,
    checkpointer: AnObject,
    shouldStop: Fn,
    progressEveryMs: NonNegativeInt,
    untilEpoch: PositiveInt,
  }),
  'runFit options',
);

/** What a run has done so far; made per subscription. */
interface Progress {
  epochsDone: number;
  /** The divergence bound's reference: the untrained model's first step's loss (divergence.ts). */
  reference: number;
  /** Training time of the epochs trained in this subscription. */
  trainMs: number;
}

/** The spec decoded and held against what will train it: the data it is given and the active backend. */
const checkedSpec = (input: RunSpec, data: Dataset, runtime: Runtime, until: number | undefined): E.Either<OptbenchError, RunSpec> =>
  pipe(
    decodeRunSpec(input),
    E.tap((spec) => checkSpecAgainst(spec, data, tf.getBackend())),
    E.tap(() =>
      runtime.backend === tf.getBackend()
        ? E.right(undefined)
        : E.left(
            invalidConfig({
              path: 'runtime.backend',
              message: `The runtime was made for the '${runtime.backend}' backend but '${tf.getBackend()}' is active: make the runtime after choosing the backend.`,
            }),
          ),
    ),
    E.tap((spec) => {
      const u = until ?? spec.epochs;
      return Number.isInteger(u) && u >= 1 && u <= spec.epochs
        ? E.right(undefined)
        : E.left(invalidConfig({ path: 'untilEpoch', message: `untilEpoch must be a whole number from 1 to the run's ${spec.epochs} epochs, got ${u}.` }));
    }),
  );

const runFailed = (spec: RunSpec, runId: string, error: OptbenchError, epochsDone: number): RunEvent => ({
  type: 'RunFailed',
  runId,
  spec,
  error,
  epochsDone,
});

/**
 * One epoch as a stage of its own: its steps (batches pulled from ix, trained one by one), the divergence
 * guard on every step's loss, the running totals and the throttled BatchEnded they give, then EpochEnded
 * delivered with the model lent (so that `evaluate` downstream evaluates it), the checkpoint after it,
 * and after the spec's last epoch, RunEnded delivered the same way.
 */
const trainEpoch = (run: Run, progress: Progress, epoch: number, opts: FitOptions): Observable<RunEvent> =>
  defer(() => {
    const { spec, runtime } = run;
    const t0 = runtime.scheduler.now();
    const interrupt = (step: number): Error | undefined =>
      opts.shouldStop?.() === true ? new RunStop(interrupted(`Interrupted during epoch ${epoch}, step ${step + 1} of ${run.steps}.`), progress.epochsDone) : undefined;
    return epochSteps(run, epoch, interrupt).pipe(
      guardDivergence(run, epoch, progress),
      scan(addStep, NO_STEPS),
      connect((totals) =>
        merge(
          totals.pipe(batchProgress(run, epoch, t0, opts.progressEveryMs ?? 250)),
          totals.pipe(
            last(),
            concatMap((t: EpochTotals) => {
              const trainMs = runtime.scheduler.now() - t0;
              progress.trainMs += trainMs;
              const ended: EpochEnded = {
                type: 'EpochEnded',
                runId: run.id,
                epoch,
                epochs: spec.epochs,
                train: { loss: t.lossSum / t.seen, accuracy: run.model.kind === 'classifier' ? t.correctSum / t.seen : null },
                test: null,
                evaluation: null,
                trainMs,
                evalMs: 0,
              };
              const runEnded: RunEnded = { type: 'RunEnded', runId: run.id, spec, final: null, confusion: null, vae: null, trainMs: progress.trainMs, evalMs: 0 };
              return concat(
                // Delivered first, so that a store downstream commits the epoch before its checkpoint exists.
                deliverLent(run, ended, progress, progress.epochsDone),
                defer(() => {
                  progress.epochsDone = epoch;
                  return opts.checkpointer !== undefined && epoch < spec.epochs
                    ? opts.checkpointer.save(run.id, epoch, run.model, run.optimizer).pipe(ignoreElements())
                    : EMPTY;
                }),
                epoch === spec.epochs ? defer(() => deliverLent(run, runEnded, progress, progress.epochsDone - 1)) : EMPTY,
              );
            }),
          ),
        ),
      ),
    );
  });

/**
 * Trains one run under the study's protocol (Keras `fit` semantics) and reports it as RunEvents:
 * RunStarted, BatchEnded*, EpochEnded per epoch (training metrics; `test` is null), then RunEnded, RunPaused
 * (at `untilEpoch`) or RunFailed. The trained model is lent with each EpochEnded and with RunEnded while it
 * is delivered (see loan.ts): `evaluate` downstream adds the test metrics, confusion matrix and VAE grids.
 *
 * The composition: the spec is checked against what will train it (its data set and backend: a spec that
 * misstates them, or does not decode, is an InvalidConfig on the error channel); the run is prepared in its
 * runtime (a model or optimizer it cannot have, or a model the data cannot feed, ends it as RunFailed
 * before training); the checkpoint, if any, is restored; then RunStarted, and epoch by epoch (trainEpoch)
 * until `untilEpoch`; then RunPaused, or the checkpoint discarded. A loss that is not finite or explodes
 * (divergence.ts), an interruption (`shouldStop`) or an evaluation that fails ends the run as RunFailed.
 * Unsubscribing stops the run after the current step; the model and optimizer are disposed however it ends.
 *
 * Paired design: the initial weights depend only on (model, seed) and the batch order, dropout masks and
 * VAE noise only on (seed, epoch, step), so every optimizer of a seed starts from the same weights and sees
 * the same batches, and a resumed run trains exactly as an uninterrupted one.
 */
export const runFit = (input: RunSpec, data: Dataset, opts: FitOptions = {}): Observable<RunEvent> =>
  defer(() => {
    const options = decodeWith(FitOptionsCodec, 'runFit options')(opts);
    if (E.isLeft(options)) return raise(options.left);
    const runtime = opts.runtime ?? builtInRuntime();
    const checked = checkedSpec(input, data, runtime, opts.untilEpoch);
    if (E.isLeft(checked)) return raise(checked.left);
    const spec = checked.right;
    const until = opts.untilEpoch ?? spec.epochs;
    const prepared = prepareRun(spec, data, runtime);
    if (E.isLeft(prepared)) return of(runFailed(spec, runId(spec), prepared.left, 0));
    const run = prepared.right;
    const progress: Progress = { epochsDone: 0, reference: NaN, trainMs: 0 };
    const restored = opts.checkpointer ? opts.checkpointer.restore(run.id, run.model, run.optimizer) : of(0);
    return restored.pipe(
      concatMap((fromEpoch) => {
        progress.epochsDone = fromEpoch;
        // A resumed run computes its first step's loss on a model built afresh from its seed, so that it
        // has the bound it had before it stopped.
        if (fromEpoch > 0) progress.reference = run.referenceLoss();
        return concat(
          of<RunEvent>({
            type: 'RunStarted',
            runId: run.id,
            spec,
            index: opts.index ?? 1,
            total: opts.total ?? 1,
            backend: runtime.backend,
            parameters: countParameters(run.model),
            steps: run.steps,
            fromEpoch,
            startedAt: new Date(runtime.scheduler.now()).toISOString(),
          }),
          range(fromEpoch + 1, Math.max(0, until - fromEpoch)).pipe(concatMap((epoch) => trainEpoch(run, progress, epoch, opts))),
          defer(() =>
            until < spec.epochs
              ? of<RunEvent>({ type: 'RunPaused', runId: run.id, spec, epochsDone: progress.epochsDone })
              : (opts.checkpointer?.discard(run.id) ?? EMPTY).pipe(ignoreElements()),
          ),
        );
      }),
      catchError((e: unknown) =>
        of(e instanceof RunStop ? runFailed(spec, run.id, e.error, e.epochsDone) : runFailed(spec, run.id, toOptbenchError(e), progress.epochsDone)),
      ),
      finalize(() => run.dispose()),
    );
  });
