import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import type { SchedulerLike } from 'rxjs';
import type { OptbenchError } from '../errors.js';
import { BUILT_IN_MODELS, modelRegistry, type ModelRegistry } from '../models/registry.js';
import type { ModelDef } from '../models/types.js';
import { BUILT_IN_OPTIMIZERS, optimizerRegistry, type OptimizerDef, type OptimizerRegistry } from '../optimizers/registry.js';
import { pipe } from 'fp-ts/lib/function.js';
import { immediateScheduler } from './scheduler.js';

/**
 * What runs compute with, as one value: a run's context. Nothing that decides a run's numbers is state
 * of the process: the backend a spec must name, the models a spec can name, and the time and scheduling
 * of its steps all come from here; the run's own precision and dropout masks are scoped to its own
 * computations (withPrecision, dropoutScope). Two runs in one process are as independent as runs in two.
 */
export interface Runtime {
  /** The TF.js backend runs compute on. A spec naming another is refused; so is a run after a switch. */
  readonly backend: string;
  /** The models a spec can name: the study's six and whatever the user gave this runtime. */
  readonly models: ModelRegistry;
  /** The optimizers a spec can name: the built-ins and whatever the user gave this runtime. */
  readonly optimizers: OptimizerRegistry;
  /**
   * Steps yield to it between batches, and its `now()` (ms since the epoch) times them. The default lets
   * I/O in between steps (immediateScheduler); a marble test passes its TestScheduler and trains in
   * virtual time.
   */
  readonly scheduler: SchedulerLike;
}

export interface RuntimeOptions {
  /** Default: the active backend when the runtime is made. */
  readonly backend?: string;
  /** The user's models, by value, beside the study's six. */
  readonly models?: readonly ModelDef[];
  /** The user's optimizers, by value, beside the built-ins. */
  readonly optimizers?: readonly OptimizerDef[];
  readonly scheduler?: SchedulerLike;
}

/** A runtime; Left when a user model or optimizer breaks its contract or takes a name already used. */
export const createRuntime = (opts: RuntimeOptions = {}): E.Either<OptbenchError, Runtime> =>
  pipe(
    E.Do,
    E.bind('models', () => modelRegistry(opts.models ?? [])),
    E.bind('optimizers', () => optimizerRegistry(opts.optimizers ?? [])),
    E.map(({ models, optimizers }) => ({ backend: opts.backend ?? tf.getBackend(), models, optimizers, scheduler: opts.scheduler ?? immediateScheduler })),
  );

/** The runtime a run gets when it is given none: the active backend, the built-in models and optimizers, immediateScheduler. */
export const builtInRuntime = (): Runtime => ({
  backend: tf.getBackend(),
  models: BUILT_IN_MODELS,
  optimizers: BUILT_IN_OPTIMIZERS,
  scheduler: immediateScheduler,
});
