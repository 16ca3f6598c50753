// Hyperparameter sweeps: search spaces (parse, sample, grid), the ASHA scheduler, and the searches as
// streams of runs through a RunTrainer (searchTrials, sweep), with their record (sweep.json).
export * from './space.js';
export * from './asha.js';
export * from './search.js';
export * from './events.js';
export * from './trial.js';
export * from './full-search.js';
export * from './asha-search.js';
export * from './search-trials.js';
export * from './sweep.js';
export * from './record.js';
export * from './record-sweep.js';
export * from './log-searches.js';
export * from './history.js';
