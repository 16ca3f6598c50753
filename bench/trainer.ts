/** The training step the benches time (bench/step.ts, bench/conv-post-ops.ts). */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { dropoutScope, type DropoutScope } from '../lib/models/dropout.js';
import { disposeModel, BUILT_IN_MODELS, trainableVariables, type BuiltModel } from '../lib/models/index.js';
import { createOptimizer, type OptimizerArg } from '../lib/optimizers/index.js';
import { classifierForward, vaeForward } from '../lib/train/losses.js';

/** The optimizer the benches time by default: Adamax at tf.keras 2.x defaults (PyTorch's peer steps Adamax too). */
export const BENCH_OPTIMIZER = { name: 'adamax', preset: 'tfkeras2', overrides: {} } as const;

/** An optimizer to time: a --optimizers item (its schedule is left out: a step's cost does not depend on it) and a preset. */
export interface BenchOptimizer {
  readonly name: string;
  readonly preset: string;
  readonly overrides: OptimizerArg['overrides'];
}

/** One freshly built model (build seed 42) with an optimizer (Adamax unless told) and a fixed random batch. */
export interface Trainer {
  readonly model: BuiltModel;
  readonly vars: tf.Variable[];
  /** One training step on the active backend; with a seed, its dropout masks are that seed's, else random. */
  step(seed?: number): void;
  /** The same step with a seed, returning its loss (read back from the backend). */
  stepLoss(seed: number): number;
  dispose(): void;
}

/** A bench's bad argument or missing part: the reason on stderr, exit code 2. */
export const fail = (message: string): never => {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
};

/** A Trainer for the model; an unknown model name stops the bench with the reason. */
export const trainer = (name: string, batch: number, optimizer: BenchOptimizer = BENCH_OPTIMIZER): Trainer => {
  const def = BUILT_IN_MODELS.get(name);
  if (E.isLeft(def)) return fail(def.left.message);
  const opt = createOptimizer(optimizer.name, { preset: optimizer.preset, ...optimizer.overrides });
  if (E.isLeft(opt)) return fail(opt.left.message);
  const model = def.right.build(42);
  const vars = trainableVariables(model);
  const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.randomUniform([batch], 0, 10, 'int32', 2) as tf.Tensor1D;
  const loss = (dropout?: DropoutScope) =>
    model.kind === 'classifier'
      ? () => classifierForward(model, x, labels, true, dropout).loss
      : () => vaeForward(model, x, true, 3, dropout).loss;
  const scope = (seed: number | undefined) => (seed === undefined ? undefined : dropoutScope(seed));
  const train = (seed?: number): void => tf.tidy(() => void opt.right.minimize(loss(scope(seed)), false, vars));
  const trainLoss = (seed: number): number => tf.tidy(() => opt.right.minimize(loss(scope(seed)), true, vars)!.dataSync()[0]!);
  return {
    model,
    vars,
    step: (seed) => train(seed),
    stepLoss: (seed) => trainLoss(seed),
    dispose: () => {
      opt.right.dispose();
      disposeModel(model);
      tf.dispose([x, labels]);
    },
  };
};
