// docs/adding-an-optimizer.md: a user optimizer as a RuleOptimizer subclass, registered so that runFit,
// grids and the CLI know it by name, and a training loop of your own that uses it directly.
// In your own project, import from 'optbench' instead of '../../lib/index.js'.
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { lastValueFrom, toArray } from 'rxjs';
import {
  RuleOptimizer,
  classifierForward,
  deriveSeed,
  evaluate,
  registerOptimizer,
  seededBatches,
  registeredOptimizer,
  runFit,
  trainableVariables,
  dropoutScope,
  type BuiltClassifier,
  type Dataset,
  type FitOptions,
  type OptbenchError,
  type OptimizerDef,
  type RunEvent,
  type RunSpec,
  type SlotUpdate,
  type Split,
  type StepScalars,
} from '../../lib/index.js';

export interface LionConfig {
  lr: number;
  beta1: number;
  beta2: number;
  weightDecay: number;
}

/**
 * Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Algorithm 2):
 *   c = b1*m + (1-b1)*g;  theta -= lr*(sign(c) + wd*theta);  m = b2*m + (1-b2)*g.
 * RuleOptimizer supplies the slots (one `m` per variable, zeros at first), the step counter, the tidy
 * around each step and getWeights/setWeights for checkpoints; a rule supplies only these three methods.
 */
export class LionOptimizer extends RuleOptimizer<LionConfig> {
  static get className(): string {
    return 'docs.Lion';
  }
  protected slotNames(): readonly string[] {
    return ['m'];
  }
  /** Plain numbers for step t, turned into scalars once per step (Lion has no t-dependent constants). */
  protected stepScalars(): Record<string, number> {
    const { lr, beta1, beta2, weightDecay } = this.config;
    return { lr, beta1, oneMinusBeta1: 1 - beta1, beta2, oneMinusBeta2: 1 - beta2, wd: weightDecay };
  }
  protected update(g: tf.Tensor, theta: tf.Tensor, slots: readonly tf.Tensor[], c: StepScalars): SlotUpdate {
    const m = slots[0]!;
    const direction = tf.sign(tf.add(tf.mul(c.beta1!, m), tf.mul(c.oneMinusBeta1!, g)));
    const step = tf.mul(c.lr!, tf.add(direction, tf.mul(c.wd!, theta)));
    return {
      theta: tf.sub(theta, step),
      slots: [tf.add(tf.mul(c.beta2!, m), tf.mul(c.oneMinusBeta2!, g))],
    };
  }
}
// Lets TF.js rebuild it from its config (the built-in rules do the same).
tf.serialization.registerClass(LionOptimizer);

/**
 * Lion as optbench's registry takes it: defaults with their sources, ranges, and how to build one.
 * lr, beta1 and beta2 keep the ranges the built-ins give those names (lr > 0, betas in [0, 1));
 * weightDecay is new to optbench, so it says its own.
 */
export const lion: OptimizerDef = {
  name: 'lion',
  description:
    'Lion (Chen et al. 2023, Algorithm 2): c = b1*m + (1-b1)*g; theta -= lr*(sign(c) + weightDecay*theta); m = b2*m + (1-b2)*g',
  defaults: { lr: 1e-4, beta1: 0.9, beta2: 0.99, weightDecay: 0 },
  sources: {
    lr: "lion-pytorch default; Chen et al. 2023 advise an lr 3-10x below AdamW's",
    beta1: 'Chen et al. 2023 default beta1',
    beta2: 'Chen et al. 2023 default beta2',
    weightDecay: 'lion-pytorch default (no decoupled weight decay)',
  },
  ranges: { weightDecay: 'nonNegative' },
  // Lion interpolates with beta1 for the step and tracks with the slower beta2; the other way round is a typo.
  validate: (p) => (Number(p.beta1) > Number(p.beta2) ? 'beta1 must not exceed beta2' : undefined),
  create: (p) =>
    new LionOptimizer({
      lr: Number(p.lr),
      beta1: Number(p.beta1),
      beta2: Number(p.beta2),
      weightDecay: Number(p.weightDecay),
    }),
};

/** Registers Lion once per process (registerOptimizer refuses a name that is taken). */
export const registerLion = (): E.Either<OptbenchError, void> =>
  registeredOptimizer(lion.name) !== undefined ? E.right(undefined) : registerOptimizer(lion);

/**
 * One runFit run of a study model with Lion, by name, evaluated, as plain data: every RunEvent it emitted.
 * `overrides` change the spec (e.g. `{ optimizer: { name: 'lion', preset: 'tfkeras2', overrides: { lr: 3e-4 } } }`).
 */
export const trainWithLion = async (
  data: Dataset,
  overrides: Partial<RunSpec> = {},
  opts: FitOptions = {},
): Promise<E.Either<OptbenchError, RunEvent[]>> => {
  const registered = registerLion();
  if (E.isLeft(registered)) return registered;
  const spec: RunSpec = {
    dataset: data.name,
    model: 'fcnn',
    optimizer: { name: 'lion', preset: 'tfkeras2', overrides: {} },
    seed: 0,
    epochs: 1,
    batchSize: 25,
    backend: tf.getBackend(),
    subset: 50,
    testSubset: 50,
    ...overrides,
  };
  return E.right(await lastValueFrom(runFit(spec, data, opts).pipe(evaluate(), toArray())));
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
