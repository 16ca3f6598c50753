import * as tf from '@tensorflow/tfjs';
import { Observable, type SchedulerAction } from 'rxjs';
import type { Batch, BatchData } from '../data/batches.js';
import { deriveSeed } from '../data/rng.js';
import { dropoutScope } from '../models/dropout.js';
import { classifierForward, correctCount, vaeForward } from './losses.js';
import type { Run } from './run.js';

/** What one training step reports. */
export interface StepResult {
  /** 1-based step within the epoch. */
  readonly step: number;
  /** Images in the step's batch. */
  readonly size: number;
  /** The batch's mean loss, before the update. */
  readonly loss: number;
  /** How many of the batch a classifier got right (0 for a VAE). */
  readonly correct: number;
}

/**
 * One training step on one batch, synchronously, in the run's precision: the forward pass in training
 * mode with the step's dropout scope and sampling seed (both derived from (seed, epoch, step)), the loss,
 * its gradients and the optimizer's update.
 */
export const trainStep = (run: Run, epoch: number, step: number, batch: Batch & BatchData): StepResult =>
  run.compute(() => {
    const { model, train } = run;
    const size = batch.indices.length;
    const stepSeed = deriveSeed(run.spec.seed, epoch, step);
    const dropout = dropoutScope(stepSeed);
    let correct: tf.Scalar | undefined;
    const loss = tf.tidy(
      () =>
        run.optimizer.minimize(
          () => {
            const x = tf.tensor4d(batch.x, [size, train.rows, train.cols, 1]);
            if (model.kind === 'vae') return vaeForward(model, x, true, stepSeed, dropout).loss;
            const labels = tf.tensor1d(batch.y, 'int32');
            const out = classifierForward(model, x, labels, true, dropout);
            correct = tf.keep(correctCount(out.logits, labels));
            return out.loss;
          },
          true,
          run.variables,
        )!,
    );
    const value = loss.dataSync()[0]!;
    loss.dispose();
    const right = correct === undefined ? 0 : (correct as tf.Scalar).dataSync()[0]!;
    if (correct !== undefined) (correct as tf.Scalar).dispose();
    return { step: step + 1, size, loss: value, correct: right };
  });

/**
 * An epoch's steps, as a cold Observable: batches pulled one at a time from the run's batcher (ix), each
 * trained by `trainStep`, yielding to the runtime's scheduler between steps (so I/O, signals and other
 * runs get their turn, and a marble test drives it in virtual time). `interrupt` is asked before every
 * step: an error it returns ends the epoch on the error channel. Unsubscribing stops after the current
 * step and stops pulling batches.
 */
export const epochSteps = (run: Run, epoch: number, interrupt: (step: number) => Error | undefined): Observable<StepResult> =>
  new Observable<StepResult>((subscriber) => {
    const batches = run.batcher(run.train, { seed: run.spec.seed, epoch, batchSize: run.spec.batchSize })[Symbol.iterator]();
    let step = 0;
    const action = run.runtime.scheduler.schedule(function (this: SchedulerAction<unknown>) {
      const stop = interrupt(step);
      if (stop !== undefined) return subscriber.error(stop);
      const next = batches.next();
      if (next.done === true) return subscriber.complete();
      let result: StepResult;
      try {
        result = trainStep(run, epoch, step, next.value);
      } catch (e) {
        return subscriber.error(e);
      }
      step++;
      subscriber.next(result);
      if (step >= run.steps) subscriber.complete();
      else if (!subscriber.closed) this.schedule();
    });
    return () => {
      action.unsubscribe();
      batches.return?.();
    };
  });
