/** The training step the benches time (bench/step.ts, bench/conv-post-ops.ts). */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { withDropoutSeed } from '../lib/models/dropout.js';
import { disposeModel, getModel, trainableVariables, type BuiltModel } from '../lib/models/index.js';
import { createOptimizer } from '../lib/optimizers/index.js';
import { classifierForward, vaeForward } from '../lib/train/losses.js';

/** One freshly built model (build seed 42) with Adamax at tf.keras 2.x defaults and a fixed random batch. */
export interface Trainer {
  readonly model: BuiltModel;
  readonly vars: tf.Variable[];
  /** One training step on the active backend; with a seed, its dropout masks are that seed's, else random. */
  step(seed?: number): void;
  /** The same step with a seed, returning its loss (read back from the backend). */
  stepLoss(seed: number): number;
  dispose(): void;
}

/** A Trainer for the model, or the reason there is none (an unknown model name). */
export const trainer = (name: string, batch: number): E.Either<string, Trainer> => {
  const def = getModel(name);
  if (E.isLeft(def)) return E.left(def.left.message);
  const opt = createOptimizer('adamax', { preset: 'tfkeras2' });
  if (E.isLeft(opt)) return E.left(opt.left.message);
  const model = def.right.build(42);
  const vars = trainableVariables(model);
  const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.randomUniform([batch], 0, 10, 'int32', 2) as tf.Tensor1D;
  const loss =
    model.kind === 'classifier'
      ? () => classifierForward(model, x, labels, true).loss
      : () => vaeForward(model, x, true, 3).loss;
  const minimize = (returnCost: boolean) => tf.tidy(() => (returnCost ? opt.right.minimize(loss, true, vars)!.dataSync()[0]! : void opt.right.minimize(loss, false, vars)));
  return E.right({
    model,
    vars,
    step: (seed) => void (seed === undefined ? minimize(false) : withDropoutSeed(seed, () => minimize(false))),
    stepLoss: (seed) => withDropoutSeed(seed, () => minimize(true)) as number,
    dispose: () => {
      opt.right.dispose();
      disposeModel(model);
      tf.dispose([x, labels]);
    },
  });
};
