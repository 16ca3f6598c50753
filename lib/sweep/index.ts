// Hyperparameter sweeps: search spaces (parse, sample, grid), the ASHA scheduler, and the search runner
// that trains trials as runs in the store.
export * from './space.js';
export * from './asha.js';
export * from './run.js';
export * from './record.js';
export * from './trainer.js';
