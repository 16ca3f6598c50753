export * from './events.js';
export * from './loan.js';
export * from './record.js';
export * from './losses.js';
export * from './evaluation.js';
export * from './evaluate.js';
export * from './splits.js';
export * from './fit.js';
export * from './trainer.js';
export * from './plan.js';
export * from './train-grid.js';
export * from './recorder.js';
export * from './progress.js';
export * from './divergence.js';
export * from './runtime.js';
export * from './scheduler.js';
export * from './spec-checks.js';
export { RunStop, deliverWithLoan } from './delivery.js';
export {
  Target,
  TargetMetric,
  Targets,
  TargetHit,
  TargetReached,
  isTargetReached,
  heldOutMetrics,
  meets,
  firstReached,
  targetText,
  type JudgedEpoch,
} from './target.js';
export { reachTarget, type ReachTargetOptions } from './reach-target.js';
export { DEFAULT_TARGETS, TARGET_GRAMMAR, parseTargets } from './targets.js';
