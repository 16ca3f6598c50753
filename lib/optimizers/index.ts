// The optimizers layer: presets with sourced defaults, tf.keras-exact update rules, creation and CLI parsing.
export {
  OPTIMIZER_NAMES,
  STUDY_OPTIMIZER_NAMES,
  MODERN_OPTIMIZER_NAMES,
  isOptimizerName,
  isStudyOptimizerName,
  PARAM_KINDS,
  canonicalParam,
  rangeOf,
  validateParam,
} from './params.js';
export type { OptimizerName, StudyOptimizerName, ModernOptimizerName, ParamKind, ParamValue } from './params.js';
export { BUILT_IN_OPTIMIZERS, optimizerRegistry, registeredOptimizerNames, registeredOptimizer, optimizerNames } from './registry.js';
export type { OptimizerDef, OptimizerRegistry } from './registry.js';
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
export { AdamwOptimizer, RadamOptimizer, LionOptimizer, AdabeliefOptimizer, MODERN_RULE_CLASSES, rectification } from './modern-rules.js';
export type { AdamwConfig, RadamConfig, LionConfig, AdabeliefConfig } from './modern-rules.js';
export { ScheduleFreeAdamwOptimizer, atEvaluationPoint, hasEvaluationPoint } from './schedule-free.js';
export type { ScheduleFreeConfig, EvaluationPoint } from './schedule-free.js';
export { MuonOptimizer, newtonSchulz, muonView, NS_COEFFICIENTS } from './muon.js';
export type { MuonConfig } from './muon.js';
export { resolveSchedule, scheduleFactor } from './schedule.js';
export type { LrSchedule, TrainingLength } from './schedule.js';
export { createOptimizer, resolveOptimizer, instantiate, OptimizerRun } from './create.js';
export type { ResolvedOptimizer, OptimizerChoiceInput } from './create.js';
export {
  parseOptimizerArg,
  parseOptimizerList,
  OPTIMIZER_LIST_GRAMMAR,
  OPTIMIZER_GROUPS,
  optimizerListGrammar,
} from './parse.js';
export type { OptimizerArg } from './parse.js';
