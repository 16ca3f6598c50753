// The marble specs' helpers are the library's own testing module (optbench/testing), so that users get
// exactly what these specs use.
export * from '../../lib/testing/index.js';
