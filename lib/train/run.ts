import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { checkPrecision, withPrecision } from '../backend/native-precision.js';
import { runId, type RunSpec } from '../config/spec.js';
import { seededBatches, type Batcher } from '../data/batches.js';
import type { Dataset, Split } from '../data/types.js';
import { invalidConfig, OptbenchFailure, type OptbenchError } from '../errors.js';
import { feedProblem } from '../models/feeds.js';
import { modelInfo } from '../models/registry.js';
import type { BuiltModel, ModelDef } from '../models/types.js';
import { disposeModel, trainableWeights } from '../models/weights.js';
import { atEvaluationPoint, createOptimizer } from '../optimizers/index.js';
import { referenceLoss } from './divergence.js';
import type { Runtime } from './runtime.js';
import { trainingSplit } from './splits.js';

/**
 * A run resolved against its runtime and data, ready to train: its model and optimizer built, its names
 * resolved in the runtime's registries, its training images cut. Every stage of runFit reads it; it owns
 * the model and the optimizer until `dispose`.
 */
export interface Run {
  readonly id: string;
  readonly spec: RunSpec;
  readonly data: Dataset;
  /** The images it trains on (after holdout and subset). */
  readonly train: Split;
  readonly model: BuiltModel;
  readonly optimizer: tf.Optimizer;
  readonly variables: tf.Variable[];
  /** Steps per epoch. */
  readonly steps: number;
  readonly batcher: Batcher;
  readonly runtime: Runtime;
  /** A synchronous computation (a training step) in the run's precision. */
  readonly compute: <T>(fn: () => T) => T;
  /**
   * A synchronous evaluation of the model: in the run's precision and at the optimizer's evaluation
   * point (Schedule-Free's averaged x rather than the y it trains at; the same point for the others).
   */
  readonly evaluation: <T>(fn: () => T) => T;
  /** The first step's loss of the untrained model, as the run computed it (a resumed run's divergence bound). */
  readonly referenceLoss: () => number;
  readonly dispose: () => void;
}

/**
 * Resolves a decoded spec: the model in the runtime's registry, whether the data can feed it, the
 * optimizer and its hyperparameters, the precision, the training images. Left is why the run cannot
 * train at all (it ends as RunFailed before its first step); nothing is left allocated then.
 */
export const prepareRun = (spec: RunSpec, data: Dataset, runtime: Runtime): E.Either<OptbenchError, Run> =>
  pipe(
    E.Do,
    E.bind('def', () => runtime.models.get(spec.model) as E.Either<OptbenchError, ModelDef>),
    E.tap(({ def }) => {
      const misfit = feedProblem(modelInfo(def), { rows: data.train.rows, cols: data.train.cols, channels: 1, classes: data.classNames.length });
      return misfit === undefined ? E.right(undefined) : E.left(invalidConfig({ path: 'model', message: `Cannot train ${spec.model} on ${data.name}: ${misfit}.` }));
    }),
    E.tap(() => checkPrecision(spec.precision ?? 'fp32')),
    E.bind('train', () => trainingSplit(data, spec)),
    // A schedule decays over the spec's whole run (not up to untilEpoch), counted in its steps.
    E.bind('optimizer', ({ train }) =>
      createOptimizer(
        spec.optimizer.name,
        { preset: spec.optimizer.preset, ...spec.optimizer.overrides },
        spec.optimizer.schedule !== undefined
          ? { schedule: spec.optimizer.schedule, epochs: spec.epochs, stepsPerEpoch: Math.ceil(train.count / spec.batchSize) }
          : {},
        runtime.optimizers,
      ),
    ),
    E.map(({ def, train, optimizer }) => {
      const model = def.build(spec.seed);
      const variables = trainableWeights(model).map((w) => w.read() as tf.Variable);
      const precision = spec.precision ?? 'fp32';
      const compute = <T>(fn: () => T): T => withPrecision(precision, fn);
      return {
        id: runId(spec),
        spec,
        data,
        train,
        model,
        optimizer,
        variables,
        steps: Math.ceil(train.count / spec.batchSize),
        batcher: data.batcher ?? seededBatches,
        runtime,
        compute,
        evaluation: <T>(fn: () => T): T =>
          compute(() =>
            E.getOrElse((e: OptbenchError): T => {
              // The optimizer refuses its own variables: a defect, reported as the run's failure.
              throw new OptbenchFailure(e);
            })(atEvaluationPoint(optimizer, variables, fn)),
          ),
        referenceLoss: () => {
          const untrained = def.build(spec.seed);
          try {
            return compute(() => referenceLoss(untrained, train, spec));
          } finally {
            disposeModel(untrained);
          }
        },
        dispose: () => {
          disposeModel(model);
          optimizer.dispose();
        },
      };
    }),
  );
