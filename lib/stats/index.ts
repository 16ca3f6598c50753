// Statistics for comparing optimizers over seeds: summaries, paired tests, Holm's correction, and tests
// of counts (how often something happened: Fisher, Cochran-Mantel-Haenszel, permutation).
export * from './special.js';
export * from './describe.js';
export * from './tests.js';
export * from './compare.js';
export * from './contingency.js';
export * from './permutation.js';
