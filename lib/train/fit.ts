import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { Observable, concatMap, type OperatorFunction } from 'rxjs';
import { usePrecision } from '../backend/native-precision.js';
import { runId as specId, type RunSpec } from '../config/spec.js';
import { epochOrder, gatherBatch, subsetSplit} from '../data/batches.js';
import { deriveSeed } from '../data/rng.js';
import type { Dataset, Split } from '../data/types.js';
import { diverged, interrupted, invalidConfig, toOptbenchError, type OptbenchError } from '../errors.js';
import { withDropoutSeed } from '../models/dropout.js';
import { getModel } from '../models/registry.js';
import type { BuiltModel } from '../models/types.js';
import { countParameters, disposeModel, trainableWeights } from '../models/weights.js';
import { createOptimizer } from '../optimizers/index.js';
import { evaluate, vaeGrids } from './evaluate.js';
import type { EpochEnded, RunEvent } from './events.js';
import { classifierForward, correctCount, vaeForward } from './losses.js';

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
  /** Test images per evaluation forward pass. */
  readonly evalBatchSize?: number;
  /** Emit BatchEnded at most this often (ms); 0 emits after every step. */
  readonly progressEveryMs?: number;
}

const slice = (split: Split, start: number, end: number): Split => {
  const px = split.rows * split.cols;
  return { ...split, images: split.images.subarray(start * px, end * px), labels: split.labels.subarray(start, end), count: end - start };
};

/**
 * The images a run trains and is evaluated on. Training: all training images, or (with `holdout`) all
 * but the last `holdout`, then optionally a seeded subset shared by every optimizer of a seed.
 * Evaluation: the test set, or the held-out training images.
 */
export const runSplits = (data: Dataset, spec: RunSpec): E.Either<OptbenchError, { train: Split; evaluation: Split }> => {
  const holdout = spec.holdout ?? 0;
  if (holdout >= data.train.count)
    return E.left(
      invalidConfig({
        path: 'holdout',
        message: `Cannot hold out ${holdout} of ${data.train.count} training images: choose fewer.`,
      }),
    );
  const train = holdout > 0 ? slice(data.train, 0, data.train.count - holdout) : data.train;
  const evaluation = holdout > 0 ? slice(data.train, data.train.count - holdout, data.train.count) : data.test;
  const picked =
    spec.subset === undefined || spec.subset >= train.count
      ? E.right(train)
      : subsetSplit(train, spec.subset, deriveSeed(spec.seed, 0x5eb5e7));
  return E.map((t: Split) => ({ train: t, evaluation }))(picked);
};

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Seed of the evaluation's VAE sampling, so that test losses are reproducible. */
const evalSeed = (spec: RunSpec, epoch: number): number => deriveSeed(spec.seed, epoch, 0xe7a1);

/**
 * Trains one run under the study's protocol (Keras `fit` semantics) and reports it as RunEvents:
 * RunStarted, BatchEnded*, EpochEnded per epoch, then RunEnded or RunFailed. A NaN/Inf loss ends the run
 * as RunFailed{Diverged}; the Observable itself only errors on a bug.
 *
 * Paired design: the initial weights depend only on (model, seed) and the batch order and dropout masks
 * only on (seed, epoch, step), so every optimizer of a seed starts from the same weights and sees the same
 * batches, and a resumed run trains exactly as an uninterrupted one.
 */
export const runFit = (spec: RunSpec, data: Dataset, opts: FitOptions = {}): Observable<RunEvent> =>
  new Observable<RunEvent>((subscriber) => {
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
      const optimizer = createOptimizer(spec.optimizer.name, {
        preset: spec.optimizer.preset,
        ...spec.optimizer.overrides,
      });
      if (E.isLeft(optimizer)) return fail(optimizer.left, 0);
      const opt = optimizer.right;
      // bf16 products where the spec asks for them (and the backend allows), fp32 again when the run ends.
      const precision = usePrecision(spec.precision ?? 'fp32');
      if (E.isLeft(precision)) return fail(precision.left, 0);
      const model = def.right.build(spec.seed);
      let epochsDone = 0;
      try {
        const fromEpoch = opts.checkpointer ? await opts.checkpointer.restore(id, model, opt) : 0;
        epochsDone = fromEpoch;
        const splits = runSplits(data, spec);
        if (E.isLeft(splits)) return fail(splits.left, 0);
        const { train, evaluation } = splits.right;
        const steps = Math.ceil(train.count / spec.batchSize);
        const classes = data.classNames.length;
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
        let evalMsTotal = 0;
        for (let epoch = fromEpoch + 1; epoch <= spec.epochs; epoch++) {
          const order = epochOrder(train.count, spec.seed, epoch);
          let lossSum = 0;
          let correctSum = 0;
          let seen = 0;
          let lastProgress = 0;
          const t0 = performance.now();
          for (let step = 0; step < steps; step++) {
            if (cancelled) return;
            if (opts.shouldStop?.()) {
              return fail(interrupted(`Interrupted during epoch ${epoch}, step ${step + 1} of ${steps}.`), epochsDone);
            }
            // A fresh buffer per step: a backend may keep (or pool) the array a tensor was made from.
            const indices = order.subarray(step * spec.batchSize, (step + 1) * spec.batchSize);
            const batch = gatherBatch(train, indices);
            const size = indices.length;
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
            if (!Number.isFinite(lossValue)) {
              return fail(
                diverged({
                  epoch,
                  step: step + 1,
                  loss: lossValue,
                  message: `${spec.model}/${spec.optimizer.name} diverged: the loss became ${lossValue} at epoch ${epoch}, step ${step + 1}. Try a smaller learning rate.`,
                }),
                epochsDone,
              );
            }
            lossSum += lossValue * size;
            seen += size;
            const now = performance.now();
            if (step === steps - 1 || now - lastProgress >= (opts.progressEveryMs ?? 250)) {
              lastProgress = now;
              emit({ type: 'BatchEnded', runId: id, epoch, step: step + 1, steps, loss: lossSum / seen, elapsedMs: now - t0 });
            }
            await yieldToEventLoop();
          }
          const trainMs = performance.now() - t0;
          const t1 = performance.now();
          const test = await evaluate(model, evaluation, {
            batchSize: opts.evalBatchSize ?? 200,
            ...(spec.testSubset !== undefined ? { count: spec.testSubset } : {}),
            seed: evalSeed(spec, epoch),
            classes,
          });
          const evalMs = performance.now() - t1;
          trainMsTotal += trainMs;
          evalMsTotal += evalMs;
          if (!Number.isFinite(test.loss)) {
            return fail(
              diverged({
                epoch,
                step: steps,
                loss: test.loss,
                message: `${spec.model}/${spec.optimizer.name} diverged: the test loss became ${test.loss} after epoch ${epoch}. Try a smaller learning rate.`,
              }),
              epochsDone,
            );
          }
          const ended: EpochEnded = {
            type: 'EpochEnded',
            runId: id,
            epoch,
            epochs: spec.epochs,
            train: { loss: lossSum / seen, accuracy: model.kind === 'classifier' ? correctSum / seen : null },
            test: { loss: test.loss, accuracy: test.accuracy },
            trainMs,
            evalMs,
          };
          epochsDone = epoch;
          // Emitted first, so that a store downstream commits the epoch before its checkpoint exists.
          emit(ended);
          if (opts.checkpointer && epoch < spec.epochs) await opts.checkpointer.save(id, epoch, model, opt);
          if (epoch === spec.epochs) {
            emit({
              type: 'RunEnded',
              runId: id,
              spec,
              final: { testLoss: test.loss, testAccuracy: test.accuracy },
              confusion: test.confusion,
              vae: model.kind === 'vae' ? await vaeGrids(model, deriveSeed(spec.seed, 0x5a3b1e)) : null,
              trainMs: trainMsTotal,
              evalMs: evalMsTotal,
            });
          }
        }
        await opts.checkpointer?.discard(id);
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

/** `fit(spec)` as an operator: trains one run on each Dataset that arrives. */
export const fit =
  (spec: RunSpec, opts: FitOptions = {}): OperatorFunction<Dataset, RunEvent> =>
  (source) =>
    source.pipe(concatMap((data) => runFit(spec, data, opts)));
