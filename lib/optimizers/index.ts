// The optimizers layer: presets with sourced defaults, tf.keras-exact update rules, creation and CLI parsing.
export { OPTIMIZER_NAMES, isOptimizerName, PARAM_KINDS, canonicalParam, rangeOf, validateParam } from './params.js';
export type { OptimizerName, ParamKind, ParamValue } from './params.js';
export {
  registerOptimizer,
  unregisterOptimizer,
  registeredOptimizerNames,
  registeredOptimizer,
  optimizerNames,
} from './registry.js';
export type { OptimizerDef } from './registry.js';
export { PRESET_NAMES, DEFAULT_PRESET, PRESETS } from './presets.js';
export type { PresetName, PresetEntry } from './presets.js';
export { RULE_IDS, RULE_FORMULAS } from './formulas.js';
export type { RuleId, RegisteredRuleId } from './formulas.js';
export { listOptimizers, paramNamesOf } from './listing.js';
export type { OptimizerListing } from './listing.js';
export { RuleOptimizer } from './base.js';
export type { StepScalars, SlotUpdate, NamedTensor } from './base.js';
export {
  SgdOptimizer,
  RmspropOptimizer,
  AdagradOptimizer,
  AdadeltaOptimizer,
  AdamOptimizer,
  AdamaxOptimizer,
  NadamOptimizer,
  OPTIMIZER_CLASSES,
} from './rules.js';
export type {
  SgdConfig,
  RmspropConfig,
  AdagradConfig,
  AdadeltaConfig,
  AdamConfig,
  AdamaxConfig,
  NadamConfig,
} from './rules.js';
export { createOptimizer, resolveOptimizer, instantiate } from './create.js';
export type { ResolvedOptimizer, OptimizerChoiceInput } from './create.js';
export { parseOptimizerArg, parseOptimizerList, OPTIMIZER_LIST_GRAMMAR, optimizerListGrammar } from './parse.js';
export type { OptimizerArg } from './parse.js';
