import * as tf from '@tensorflow/tfjs';
import { tap, type MonoTypeOperatorFunction } from 'rxjs';
import { formatParam, optimizerText, type RunSpec } from '../config/spec.js';
import { epochOrder, gatherBatch } from '../data/batches.js';
import { deriveSeed } from '../data/rng.js';
import type { Split } from '../data/types.js';
import { diverged, type Diverged } from '../errors.js';
import { RunStop } from './delivery.js';
import { dropoutScope } from '../models/dropout.js';
import type { BuiltModel } from '../models/types.js';
import { classifierForward, vaeForward } from './losses.js';

/**
 * When a run has diverged (Keras users know the first half as TerminateOnNaN): its training loss (any
 * step's batch loss) or an epoch's test loss is not finite, or exceeds DIVERGENCE_FACTOR times the run's
 * reference loss, its first step's loss (the untrained model, as built from the run's seed, on the first
 * batch of epoch 1). No run
 * of the study comes near the bound (the classifiers start near ln 10 = 2.3 and end below it; the VAEs
 * start in the hundreds and end below 140), while a learning rate that blows the weights up (sgd:lr=1e9)
 * passes it within a step or two.
 */
export const DIVERGENCE_FACTOR = 1000;

/**
 * The run's reference loss as its first training step computes it (training mode, that step's dropout
 * and sampling seeds), from a model as the run's seed builds it. A fresh run takes it from its first step;
 * a resumed run computes it so, and so has the same reference, and the same bound, as if never stopped.
 */
export const referenceLoss = (untrained: BuiltModel, train: Split, spec: RunSpec): number => {
  const indices = epochOrder(train.count, spec.seed, 1).subarray(0, spec.batchSize);
  const batch = gatherBatch(train, indices);
  const stepSeed = deriveSeed(spec.seed, 1, 0);
  const dropout = dropoutScope(stepSeed);
  const loss = tf.tidy(() => {
    const x = tf.tensor4d(batch.x, [indices.length, train.rows, train.cols, 1]);
    return untrained.kind === 'vae'
      ? vaeForward(untrained, x, true, stepSeed, dropout).loss
      : classifierForward(untrained, x, tf.tensor1d(batch.y, 'int32'), true, dropout).loss;
  });
  const value = loss.dataSync()[0]!;
  loss.dispose();
  return value;
};

/** The largest loss a run may reach before it counts as diverged. */
export const divergenceBound = (reference: number): number =>
  Number.isFinite(reference) && reference > 0 ? DIVERGENCE_FACTOR * reference : Infinity;

const fmt = (x: number): string => (Number.isFinite(x) ? formatParam(Number(x.toPrecision(4))) : String(x));

/** Diverged when `loss` is not finite or above the bound; null otherwise. */
export const divergence = (
  spec: RunSpec,
  loss: number,
  reference: number,
  where: { readonly epoch: number; readonly step: number; readonly what: 'training loss' | 'test loss' | 'validation loss'; readonly at: string },
): Diverged | null => {
  const bound = divergenceBound(reference);
  if (Number.isFinite(loss) && loss <= bound) return null;
  const why = Number.isFinite(loss)
    ? `reached ${fmt(loss)} ${where.at}, more than ${DIVERGENCE_FACTOR} times the untrained model's ${fmt(reference)}`
    : `became ${loss} ${where.at}`;
  return diverged({
    epoch: where.epoch,
    step: where.step,
    loss,
    message: `${spec.model}/${optimizerText(spec.optimizer)} diverged: the ${where.what} ${why}. Try a smaller learning rate.`,
  });
};

/**
 * The divergence guard on an epoch's steps: the first step of the first epoch sets the run's reference
 * (the untrained model's loss), and a step whose loss is not finite or passes the bound ends the run
 * (RunStop with Diverged, after the epochs it completed).
 */
export const guardDivergence =
  <S extends { readonly step: number; readonly loss: number }>(
    run: { readonly spec: RunSpec },
    epoch: number,
    progress: { reference: number; readonly epochsDone: number },
  ): MonoTypeOperatorFunction<S> =>
  (steps) =>
    steps.pipe(
      tap((s) => {
        if (epoch === 1 && s.step === 1 && Number.isFinite(s.loss)) progress.reference = s.loss;
        const blown = divergence(run.spec, s.loss, progress.reference, {
          epoch,
          step: s.step,
          what: 'training loss',
          at: `at epoch ${epoch}, step ${s.step}`,
        });
        if (blown !== null) throw new RunStop(blown, progress.epochsDone);
      }),
    );
