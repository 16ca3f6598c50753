export * from './tasks.js';
export * from './grid.js';
