// optbench/train: what a run is (its spec, as a codec), a run's runtime, fit and trainGrid, the RunTrainer
// seam, evaluate, the events and records a run produces, and the pass-through stages after training.
export { RunSpec, OptimizerChoice, Overrides, Precision, decodeRunSpec, runId, runLabel, runDisplayLabel, canonicalSpec } from '../config/spec.js';
export { Schedule, SCHEDULE_KINDS, scheduleText, type ScheduleKind } from '../config/schedule.js';
export {
  Metrics,
  RunId,
  RunStarted,
  BatchEnded,
  EvaluationSplit,
  Evaluated,
  EpochEnded,
  VaeGrids,
  FinalMetrics,
  Confusion,
  RunEnded,
  RunPaused,
  RunFailed,
  RunEvent,
  isRunEvent,
  isGridStarted,
  isTerminal,
  type GridStarted,
  type GridEvent,
  type StreamEvent,
} from './events.js';
export { EpochRecord, RunStatus, RUN_STATUSES, RunRecord, GridRecord, foldRunRecord } from './record.js';
export { createRuntime, builtInRuntime, type Runtime, type RuntimeOptions } from './runtime.js';
export { immediateScheduler } from './scheduler.js';
export { runFit, type FitOptions, type Checkpointer } from './fit.js';
export { localTrainer, type RunContext, type RunTrainer } from './trainer.js';
export { checkSpecAgainst } from './spec-checks.js';
export { GridPlan, planGrid, fitPlanToData } from './plan.js';
export { trainGrid, type GridOptions } from './train-grid.js';
export { evaluate, EvaluateOptions, decodeEvaluateOptions } from './evaluate.js';
export { borrow, type ModelLoan } from './loan.js';
export { evaluateSplit, vaeGrids, type Evaluation } from './evaluation.js';
export { trainingSplit, evaluationSplit } from './splits.js';
export { crossEntropy, classifierForward, correctCount, vaeForward, vaeNoise, vaeLoss } from './losses.js';
export { recordRuns, type RecordRunsOptions } from './recorder.js';
export { showProgress } from './progress.js';
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
