// optbench/testing: what optbench's own marble specs use, for users' tests of their own operators and
// pipelines: event builders, a data set that only names itself, a TestScheduler, a paced scheduler for
// whole fits in virtual time, and fake trainers.
export * from './events.js';
export * from './scheduler.js';
export * from './trainers.js';
