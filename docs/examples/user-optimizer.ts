// docs/adding-an-optimizer.md: a user optimizer as a RuleOptimizer subclass, registered so that runFit,
// grids and the CLI know it by name, and a training loop of your own that uses it directly.
// In your own project, import from 'optbench', 'optbench/optimizers', ... instead of '../../lib/index.js',
// '../../lib/optimizers/index.js', ...
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { lastValueFrom, toArray } from 'rxjs';
import {
  evaluate,
  createRuntime,
  runFit,
  type Dataset,
  type FitOptions,
  type OptbenchError,
  type RunEvent,
  type RunSpec,
  type Runtime,
} from '../../lib/index.js';
import { deriveSeed, seededBatches, type Split } from '../../lib/data/index.js';
import { dropoutScope, trainableVariables, type BuiltClassifier } from '../../lib/models/index.js';
import { RuleOptimizer, atEvaluationPoint, createOptimizer, type OptimizerDef, type SlotUpdate, type StepScalars } from '../../lib/optimizers/index.js';
import { classifierForward } from '../../lib/train/index.js';

export interface SignumConfig {
  lr: number;
  momentum: number;
  weightDecay: number;
}

/**
 * Signum (Bernstein, Wang, Azizzadenesheli & Anandkumar 2018, "signSGD: Compressed Optimisation for
 * Non-Convex Problems", Algorithm 1), with MXNet's decoupled weight decay (its `wd_lh`):
 *   m = momentum*m + (1-momentum)*g;  theta -= lr*(sign(m) + weightDecay*theta).
 * RuleOptimizer supplies the slots (one `m` per variable, zeros at first), the step counter, the tidy
 * around each step and getWeights/setWeights for checkpoints; a rule supplies only these three methods.
 */
export class SignumOptimizer extends RuleOptimizer<SignumConfig> {
  static get className(): string {
    return 'docs.Signum';
  }
  protected slotNames(): readonly string[] {
    return ['m'];
  }
  /** Plain numbers for step t, turned into scalars once per step (Signum has no t-dependent constants). */
  protected stepScalars(): Record<string, number> {
    const { lr, momentum, weightDecay } = this.config;
    return { lr, momentum, oneMinusMomentum: 1 - momentum, wd: weightDecay };
  }
  protected update(g: tf.Tensor, theta: tf.Tensor, slots: readonly tf.Tensor[], c: StepScalars): SlotUpdate {
    const m = tf.add(tf.mul(c.momentum!, slots[0]!), tf.mul(c.oneMinusMomentum!, g));
    const step = tf.mul(c.lr!, tf.add(tf.sign(m), tf.mul(c.wd!, theta)));
    return { theta: tf.sub(theta, step), slots: [m] };
  }
}
// Lets TF.js rebuild it from its config (the built-in rules do the same).
tf.serialization.registerClass(SignumOptimizer);

/**
 * Signum as optbench's registry takes it: defaults with their sources, ranges, and how to build one.
 * lr and momentum keep the ranges the built-ins give those names (lr > 0, momentum in [0, 1));
 * `ranges` gives a name its range where the built-ins have none, or another one.
 */
export const signum: OptimizerDef = {
  name: 'signum',
  description:
    'Signum (Bernstein et al. 2018, Algorithm 1; decoupled weight decay as MXNet wd_lh): m = momentum*m + (1-momentum)*g; theta -= lr*(sign(m) + weightDecay*theta)',
  defaults: { lr: 0.01, momentum: 0.9, weightDecay: 0 },
  sources: {
    lr: 'MXNet mx.optimizer.Signum default (learning_rate), added by the paper\'s authors',
    momentum: 'MXNet mx.optimizer.Signum default; Bernstein et al. 2018 use 0.9',
    weightDecay: 'MXNet mx.optimizer.Signum default wd_lh (no decoupled weight decay)',
  },
  ranges: { weightDecay: 'nonNegative' },
  // The decay multiplies every weight by 1 - lr*weightDecay: at 1 or more it zeroes or flips them.
  validate: (p) => (Number(p.lr) * Number(p.weightDecay) >= 1 ? 'lr * weightDecay must be below 1' : undefined),
  create: (p) =>
    new SignumOptimizer({
      lr: Number(p.lr),
      momentum: Number(p.momentum),
      weightDecay: Number(p.weightDecay),
    }),
};

/** A runtime whose optimizers are the built-ins and Signum: runs given it can name 'signum'. */
export const signumRuntime = (): E.Either<OptbenchError, Runtime> => createRuntime({ optimizers: [signum] });

/**
 * One runFit run of a study model with Signum, by name, evaluated, as plain data: every RunEvent it emitted.
 * `overrides` change the spec (e.g. `{ optimizer: { name: 'signum', preset: 'tfkeras2', overrides: { lr: 3e-4 } } }`).
 */
export const trainWithSignum = async (
  data: Dataset,
  overrides: Partial<RunSpec> = {},
  opts: FitOptions = {},
): Promise<E.Either<OptbenchError, RunEvent[]>> => {
  const runtime = signumRuntime();
  if (E.isLeft(runtime)) return runtime;
  const spec: RunSpec = {
    dataset: data.name,
    model: 'fcnn',
    optimizer: { name: 'signum', preset: 'tfkeras2', overrides: {} },
    seed: 0,
    epochs: 1,
    batchSize: 25,
    backend: tf.getBackend(),
    subset: 50,
    testSubset: 50,
    ...overrides,
  };
  return E.right(await lastValueFrom(runFit(spec, data, { ...opts, runtime: runtime.right }).pipe(evaluate(), toArray())));
};

/**
 * Trains a built classifier with any tf.Optimizer for `epochs` passes over `train`, the way runFit does
 * one step: seeded batch order, a dropout scope per step, the loss and its gradients inside one tidy.
 * Returns the mean training loss of each epoch.
 */
export const trainClassifier = async (
  model: BuiltClassifier,
  optimizer: tf.Optimizer,
  train: Split,
  opts: { epochs: number; batchSize: number; seed: number; classes?: number },
): Promise<number[]> => {
  const variables = trainableVariables(model);
  const means: number[] = [];
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    let sum = 0;
    for (const batch of seededBatches(train, { seed: opts.seed, epoch, batchSize: opts.batchSize })) {
      const size = batch.indices.length;
      // The step's dropout scope: masks reproducible from (seed, epoch, step), as runFit draws them.
      const dropout = dropoutScope(deriveSeed(opts.seed, epoch, batch.step));
      const loss = tf.tidy(
        () =>
          optimizer.minimize(
            () => {
              const x = tf.tensor4d(batch.x, [size, train.rows, train.cols, 1]);
              const y = tf.tensor1d(batch.y, 'int32');
              return classifierForward(model, x, y, true, dropout).loss;
            },
            true,
            variables,
          )!,
      );
      sum += (await loss.data())[0]! * size;
      loss.dispose();
    }
    means.push(sum / train.count);
  }
  return means;
};

/**
 * A built-in optimizer with a learning-rate schedule, for a loop of one's own: AdamW whose rate warms up
 * over the first epoch and then follows a cosine to (almost) 0 at the last step. The schedule counts steps,
 * so it is told the loop's length: epochs, and steps per epoch as seededBatches cuts `train`.
 */
export const cosineAdamw = (train: Split, opts: { epochs: number; batchSize: number }): E.Either<OptbenchError, tf.Optimizer> =>
  createOptimizer(
    'adamw',
    { preset: 'modern', lr: 3e-3 },
    { schedule: { kind: 'cosine', warmupEpochs: 1 }, epochs: opts.epochs, stepsPerEpoch: Math.ceil(train.count / opts.batchSize) },
  );

/**
 * A classifier's mean loss on `x` and `labels` (inference mode), measured where its optimizer is
 * evaluated: Schedule-Free AdamW trains at y and is evaluated at x, the average of its steps, so its
 * variables, as they are after a step, hold the wrong point. `atEvaluationPoint` puts x in for the
 * measurement and y back after it, bit for bit; for any other optimizer it just measures.
 */
export const lossWhereEvaluated = (
  optimizer: tf.Optimizer,
  model: BuiltClassifier,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
): E.Either<OptbenchError, number> =>
  atEvaluationPoint(optimizer, trainableVariables(model), () => tf.tidy(() => classifierForward(model, x, labels, false).loss.dataSync()[0]!));
