export * from './events.js';
export * from './record.js';
export * from './losses.js';
export * from './evaluate.js';
export * from './fit.js';
export * from './grid.js';
export * from './recorder.js';
export * from './progress.js';
