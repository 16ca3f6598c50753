// Hyperparameter sweeps: search spaces (parse, sample, grid) and the ASHA scheduler. Pure: no training here.
export * from './space.js';
export * from './asha.js';
