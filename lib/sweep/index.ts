// optbench/sweep: search spaces (parse, sample, grid), the ASHA scheduler (pure), and searches and sweeps
// as streams of runs through a RunTrainer (searchTrials, sweep), with their record (sweep.json).
export {
  SearchSpace,
  SpaceDimension,
  SpacePoint,
  SpaceValue,
  DISTRIBUTIONS,
  decodeSearchSpace,
  parseSearchSpace,
  formatSearchSpace,
  samplePoint,
  randomPoints,
  gridCounts,
  gridPoints,
  toOverrides,
} from './space.js';
export {
  AshaConfig,
  AshaState,
  AshaTrial,
  AshaJob,
  createAsha,
  decodeAshaState,
  rungResources,
  ashaNext,
  ashaReport,
  ashaResume,
  ashaIsDone,
  ashaSummary,
  ashaPromotions,
  type AshaDecision,
  type AshaTrialStatus,
  type AshaTrialSummary,
} from './asha.js';
export {
  STRATEGIES,
  Strategy,
  SearchConfig,
  decodeSearchConfig,
  checkSearchConfig,
  searchPoints,
  trialSpec,
  TrialStatus,
  TrialRecord,
  SearchResult,
  validationMetric,
  bestTrial,
  formatPoint,
} from './search.js';
export {
  isSweepEvent,
  type SweepEvent,
  type SweepStarted,
  type SearchEvent,
  type SearchStarted,
  type SearchUpdated,
  type SearchEnded,
  type RetrainStarted,
} from './events.js';
export type { TrialHistory, HistoryOf, TrialOutcome } from './trial.js';
export { fullSearch, type SearchRunOptions } from './full-search.js';
export { ashaSearch } from './asha-search.js';
export { searchTrials, type SearchTrialsOptions } from './search-trials.js';
export { sweep, SweepSpec, retrainGridPlan, type SweepOptions } from './sweep.js';
export { SweepRecord, FinalGroup, readSweepRecord, foldSweepRecord } from './record.js';
export { recordSweep } from './record-sweep.js';
export { logSearches } from './log-searches.js';
export { storeHistory } from './history.js';
