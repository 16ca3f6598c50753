import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { Observable, throwError } from 'rxjs';
import { usePrecision } from '../backend/native-precision.js';
import { decodeRunSpec, runId as specId, type RunSpec } from '../config/spec.js';
import { seededBatches } from '../data/batches.js';
import { deriveSeed } from '../data/rng.js';
import type { Dataset } from '../data/types.js';
import { interrupted, invalidConfig, toOptbenchError, type OptbenchError } from '../errors.js';
import { withDropoutSeed } from '../models/dropout.js';
import { feedProblem } from '../models/feeds.js';
import { getModel, modelInfo } from '../models/registry.js';
import type { BuiltModel } from '../models/types.js';
import { countParameters, disposeModel, trainableWeights } from '../models/weights.js';
import { createOptimizer } from '../optimizers/index.js';
import { divergence, referenceLoss } from './divergence.js';
import type { EpochEnded, RunEnded, RunEvent } from './events.js';
import { lend, revoke } from './loan.js';
import { classifierForward, correctCount, vaeForward } from './losses.js';
import { trainingSplit } from './splits.js';

/** Saves and restores a run's state at epoch boundaries (the store provides one; see lib/store). */
export interface Checkpointer {
  /** Restores model and optimizer state if a checkpoint exists; returns the epoch it was taken after (0 if none). */
  restore(runId: string, model: BuiltModel, optimizer: tf.Optimizer): Promise<number>;
  save(runId: string, epoch: number, model: BuiltModel, optimizer: tf.Optimizer): Promise<void>;
  /** The run finished: its checkpoint is no longer needed. */
  discard(runId: string): Promise<void>;
}

export interface FitOptions {
  /** Position of this run in its grid (1-based) and the grid's size, for progress. */
  readonly index?: number;
  readonly total?: number;
  /** Name of the active backend, recorded with the run. */
  readonly backend?: string;
  readonly checkpointer?: Checkpointer;
  /** Polled between steps: when true the run stops after the current step with RunFailed{Interrupted}. */
  readonly shouldStop?: () => boolean;
  /** Emit BatchEnded at most this often (ms); 0 emits after every step. */
  readonly progressEveryMs?: number;
  /** Stop once this many epochs are complete, with RunPaused (an ASHA rung); default: the spec's epochs. */
  readonly untilEpoch?: number;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Trains one run under the study's protocol (Keras `fit` semantics) and reports it as RunEvents:
 * RunStarted, BatchEnded*, EpochEnded per epoch (training metrics; `test` is null), then RunEnded, RunPaused
 * (at `untilEpoch`) or RunFailed. The trained model is lent with each EpochEnded and with RunEnded while it
 * is delivered (see loan.ts): `evaluate` downstream adds the test metrics, confusion matrix and VAE grids.
 * A loss that is not finite or explodes (see DIVERGENCE_FACTOR) ends the run as RunFailed{Diverged}, and a
 * model the data cannot feed (input shape, classes) is refused before training; a spec that does not
 * decode is an InvalidConfig on the error channel, and otherwise the Observable errors only on a bug. Unsubscribing stops the run after
 * the current step and disposes its model and optimizer.
 *
 * Paired design: the initial weights depend only on (model, seed) and the batch order and dropout masks
 * only on (seed, epoch, step), so every optimizer of a seed starts from the same weights and sees the same
 * batches, and a resumed run trains exactly as an uninterrupted one.
 */
export const runFit = (input: RunSpec, data: Dataset, opts: FitOptions = {}): Observable<RunEvent> => {
  const decoded = decodeRunSpec(input);
  if (E.isLeft(decoded)) return throwError(() => decoded.left);
  const spec = decoded.right;
  const until = opts.untilEpoch ?? spec.epochs;
  if (!Number.isInteger(until) || until < 1 || until > spec.epochs)
    return throwError(() =>
      invalidConfig({ path: 'untilEpoch', message: `untilEpoch must be a whole number from 1 to the run's ${spec.epochs} epochs, got ${until}.` }),
    );
  return new Observable<RunEvent>((subscriber) => {
    let cancelled = false;
    const id = specId(spec);
    const emit = (e: RunEvent): void => {
      if (!cancelled) subscriber.next(e);
    };
    const fail = (error: OptbenchError, epochsDone: number): void => {
      emit({ type: 'RunFailed', runId: id, spec, error, epochsDone });
    };

    const run = async (): Promise<void> => {
      const def = getModel(spec.model);
      if (E.isLeft(def)) return fail(def.left, 0);
      const misfit = feedProblem(modelInfo(def.right), {
        rows: data.train.rows,
        cols: data.train.cols,
        channels: 1,
        classes: data.classNames.length,
      });
      if (misfit !== undefined)
        return fail(invalidConfig({ path: 'model', message: `Cannot train ${spec.model} on ${data.name}: ${misfit}.` }), 0);
      const split = trainingSplit(data, spec);
      if (E.isLeft(split)) return fail(split.left, 0);
      const train = split.right;
      const steps = Math.ceil(train.count / spec.batchSize);
      // A schedule decays over the spec's whole run (not up to untilEpoch), counted in its steps.
      const { schedule } = spec.optimizer;
      const optimizer = createOptimizer(
        spec.optimizer.name,
        { preset: spec.optimizer.preset, ...spec.optimizer.overrides },
        schedule !== undefined ? { schedule, epochs: spec.epochs, stepsPerEpoch: steps } : {},
      );
      if (E.isLeft(optimizer)) return fail(optimizer.left, 0);
      const opt = optimizer.right;
      // bf16 products where the spec asks for them (and the backend allows), fp32 again when the run ends.
      const precision = usePrecision(spec.precision ?? 'fp32');
      if (E.isLeft(precision)) return fail(precision.left, 0);
      const model = def.right.build(spec.seed);
      const batcher = data.batcher ?? seededBatches;
      /** Delivers an event with the model lent beside it; what a stage asked instead (a failure), if anything. */
      const deliver = (event: EpochEnded | RunEnded): OptbenchError | null => {
        let failure: OptbenchError | null = null;
        lend(event, { model, spec, data, reference, fail: (e) => void (failure ??= e) });
        try {
          emit(event);
        } finally {
          revoke(event);
        }
        return failure;
      };
      let epochsDone = 0;
      // The divergence bound's reference: the first step's loss (see divergence.ts).
      let reference = NaN;
      try {
        const fromEpoch = opts.checkpointer ? await opts.checkpointer.restore(id, model, opt) : 0;
        epochsDone = fromEpoch;
        // A resumed run computes that first step's loss on a model built afresh from its seed, so that it
        // has the bound it had before it stopped.
        if (fromEpoch > 0) {
          const untrained = def.right.build(spec.seed);
          try {
            reference = await referenceLoss(untrained, train, spec);
          } finally {
            disposeModel(untrained);
          }
        }
        const variables = trainableWeights(model).map((w) => w.read() as tf.Variable);
        emit({
          type: 'RunStarted',
          runId: id,
          spec,
          index: opts.index ?? 1,
          total: opts.total ?? 1,
          backend: opts.backend ?? tf.getBackend(),
          parameters: countParameters(model),
          steps,
          fromEpoch,
          startedAt: new Date().toISOString(),
        });
        let trainMsTotal = 0;
        for (let epoch = fromEpoch + 1; epoch <= until; epoch++) {
          const batches = batcher(train, { seed: spec.seed, epoch, batchSize: spec.batchSize })[Symbol.iterator]();
          let lossSum = 0;
          let correctSum = 0;
          let seen = 0;
          let lastProgress = 0;
          const t0 = performance.now();
          try {
            for (let step = 0; step < steps; step++) {
              if (cancelled) return;
              if (opts.shouldStop?.()) {
                return fail(interrupted(`Interrupted during epoch ${epoch}, step ${step + 1} of ${steps}.`), epochsDone);
              }
              const next = batches.next();
              if (next.done === true) break;
              const batch = next.value;
              const size = batch.indices.length;
              const stepSeed = deriveSeed(spec.seed, epoch, step);
              let correct: tf.Scalar | undefined;
              const loss = tf.tidy(() =>
                withDropoutSeed(stepSeed, () =>
                  opt.minimize(
                    () => {
                      const x = tf.tensor4d(batch.x, [size, train.rows, train.cols, 1]);
                      if (model.kind === 'vae') return vaeForward(model, x, true, stepSeed).loss;
                      const labels = tf.tensor1d(batch.y, 'int32');
                      const out = classifierForward(model, x, labels, true);
                      correct = tf.keep(correctCount(out.logits, labels));
                      return out.loss;
                    },
                    true,
                    variables,
                  )!,
                ),
              );
              const lossValue = (await loss.data())[0]!;
              loss.dispose();
              if (correct !== undefined) {
                correctSum += (await (correct as tf.Scalar).data())[0]!;
                (correct as tf.Scalar).dispose();
              }
              if (epoch === 1 && step === 0 && Number.isFinite(lossValue)) reference = lossValue;
              const blown = divergence(spec, lossValue, reference, {
                epoch,
                step: step + 1,
                what: 'training loss',
                at: `at epoch ${epoch}, step ${step + 1}`,
              });
              if (blown !== null) return fail(blown, epochsDone);
              lossSum += lossValue * size;
              seen += size;
              const now = performance.now();
              if (step === steps - 1 || now - lastProgress >= (opts.progressEveryMs ?? 250)) {
                lastProgress = now;
                emit({ type: 'BatchEnded', runId: id, epoch, step: step + 1, steps, loss: lossSum / seen, elapsedMs: now - t0 });
              }
              await yieldToEventLoop();
            }
          } finally {
            batches.return?.();
          }
          if (cancelled) return;
          const trainMs = performance.now() - t0;
          trainMsTotal += trainMs;
          const ended: EpochEnded = {
            type: 'EpochEnded',
            runId: id,
            epoch,
            epochs: spec.epochs,
            train: { loss: lossSum / seen, accuracy: model.kind === 'classifier' ? correctSum / seen : null },
            test: null,
            evaluation: null,
            trainMs,
            evalMs: 0,
          };
          // Delivered first, so that a store downstream commits the epoch before its checkpoint exists.
          const refused = deliver(ended);
          if (refused !== null) return fail(refused, epochsDone);
          epochsDone = epoch;
          if (opts.checkpointer && epoch < spec.epochs) await opts.checkpointer.save(id, epoch, model, opt);
          if (cancelled) return;
          if (epoch === spec.epochs) {
            const refusedEnd = deliver({ type: 'RunEnded', runId: id, spec, final: null, confusion: null, vae: null, trainMs: trainMsTotal, evalMs: 0 });
            if (refusedEnd !== null) return fail(refusedEnd, epochsDone - 1);
          }
        }
        if (until < spec.epochs) emit({ type: 'RunPaused', runId: id, spec, epochsDone });
        else await opts.checkpointer?.discard(id);
      } catch (e) {
        fail(toOptbenchError(e), epochsDone);
      } finally {
        disposeModel(model);
        opt.dispose();
        usePrecision('fp32');
      }
    };

    run().then(
      () => subscriber.complete(),
      (e: unknown) => subscriber.error(toOptbenchError(e)),
    );
    return () => {
      cancelled = true;
    };
  });
};
