// The public API of optbench. Each layer has its own index; this file only re-exports them.
export * from './errors.js';
export * from './observable.js';
export * from './config/spec.js';
export * from './config/schedule.js';
export * from './config/protocol.js';
export * from './data/index.js';
export * from './models/index.js';
export * from './optimizers/index.js';
export * from './train/index.js';
export * from './backend/index.js';
export * from './store/index.js';
export * from './report/index.js';
export * from './stats/index.js';
export * from './sweep/index.js';
export * from './queue/index.js';
export * from './serve/index.js';
