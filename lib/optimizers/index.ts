// optbench/optimizers: presets with sourced defaults, tf.keras-exact update rules, registries of
// optimizers as values, creation, and the --optimizers grammar.
export { OPTIMIZER_NAMES, STUDY_OPTIMIZER_NAMES, MODERN_OPTIMIZER_NAMES, isOptimizerName, isStudyOptimizerName } from './params.js';
export type { OptimizerName, StudyOptimizerName, ModernOptimizerName, ParamValue } from './params.js';
export { BUILT_IN_OPTIMIZERS, optimizerRegistry, optimizerNames } from './registry.js';
export type { OptimizerDef, OptimizerRegistry } from './registry.js';
export { PRESET_NAMES, DEFAULT_PRESET, PRESETS } from './presets.js';
export type { PresetName, PresetEntry } from './presets.js';
export { RULE_IDS, RULE_FORMULAS } from './formulas.js';
export type { RuleId, RegisteredRuleId } from './formulas.js';
export { listOptimizers, paramNamesOf } from './listing.js';
export type { OptimizerListing } from './listing.js';
export { RuleOptimizer } from './base.js';
export type { StepScalars, SlotUpdate, NamedTensor } from './base.js';
export { SgdOptimizer, RmspropOptimizer, AdagradOptimizer, AdadeltaOptimizer, AdamOptimizer, AdamaxOptimizer, NadamOptimizer } from './rules.js';
export type {
  SgdConfig,
  RmspropConfig,
  AdagradConfig,
  AdadeltaConfig,
  AdamConfig,
  AdamaxConfig,
  NadamConfig,
} from './rules.js';
export { AdamwOptimizer, RadamOptimizer, LionOptimizer, AdabeliefOptimizer } from './modern-rules.js';
export type { AdamwConfig, RadamConfig, LionConfig, AdabeliefConfig } from './modern-rules.js';
export { ScheduleFreeAdamwOptimizer, atEvaluationPoint, hasEvaluationPoint } from './schedule-free.js';
export type { ScheduleFreeConfig, EvaluationPoint } from './schedule-free.js';
export { MuonOptimizer } from './muon.js';
export type { MuonConfig } from './muon.js';
export { resolveSchedule, scheduleFactor } from './schedule.js';
export type { LrSchedule, TrainingLength } from './schedule.js';
export { createOptimizer, resolveOptimizer } from './create.js';
export type { ResolvedOptimizer, OptimizerChoiceInput, OptimizerRun } from './create.js';
export { parseOptimizerArg, parseOptimizerList } from './parse.js';
export type { OptimizerArg } from './parse.js';
