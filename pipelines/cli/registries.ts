import { BUILT_IN_MODELS, type ModelRegistry } from '../../lib/models/registry.js';
import { BUILT_IN_OPTIMIZERS, type OptimizerRegistry } from '../../lib/optimizers/registry.js';

/**
 * The names a command line resolves: the built-in models and optimizers, or those of a runtime a script
 * embedding `main(argv, registries)` gives it (its own models and optimizers, by value).
 */
export interface Registries {
  readonly models: ModelRegistry;
  readonly optimizers: OptimizerRegistry;
}

export const BUILT_IN_REGISTRIES: Registries = { models: BUILT_IN_MODELS, optimizers: BUILT_IN_OPTIMIZERS };
