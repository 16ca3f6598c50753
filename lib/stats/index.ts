// Statistics for comparing optimizers over seeds: summaries, paired tests, Holm's correction.
export * from './special.js';
export * from './describe.js';
export * from './tests.js';
export * from './compare.js';
