import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import type { SchedulerLike } from 'rxjs';
import type { OptbenchError } from '../errors.js';
import { BUILT_IN_MODELS, modelRegistry, type ModelRegistry } from '../models/registry.js';
import type { ModelDef } from '../models/types.js';
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
  readonly scheduler?: SchedulerLike;
}

/** A runtime; Left when a user model breaks the model contract or takes a name already used. */
export const createRuntime = (opts: RuntimeOptions = {}): E.Either<OptbenchError, Runtime> =>
  E.map((models: ModelRegistry) => ({
    backend: opts.backend ?? tf.getBackend(),
    models,
    scheduler: opts.scheduler ?? immediateScheduler,
  }))(modelRegistry(opts.models ?? []));

/** The runtime a run gets when it is given none: the active backend, the study's models, immediateScheduler. */
export const builtInRuntime = (): Runtime => ({ backend: tf.getBackend(), models: BUILT_IN_MODELS, scheduler: immediateScheduler });
