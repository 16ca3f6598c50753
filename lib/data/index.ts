// The data layer: IDX parsing, locating/verifying/downloading the data set, seeded batching.
export * from './types.js';
export * from './idx.js';
export * from './locate.js';
export * from './download.js';
export * from './load.js';
export * from './check.js';
export * from './rng.js';
export * from './batches.js';
export * from './batches-stage.js';
export * from './load-config.js';
