export * from './tasks.js';
export * from './grid.js';
export * from './sweep.js';
