// The live page of run directories (`optbench serve`): a read-only HTTP server over the store, one watcher
// per directory, and server-sent events to the open pages.
export { serve, type Serving } from './server.js';
export { DEFAULT_HOST, DEFAULT_PORT, type ServeOptions } from './options.js';
export { readDir, type DirSnapshot, type PlannedRun } from './dir-read.js';
export { watchDir, type DirRead, type WatchOptions } from './watch.js';
