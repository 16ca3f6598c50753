/**
 * Plain events for marble tests of operators (what optbench's own spec/marbles use): a spec, a data set
 * that only names itself, and each RunEvent of a fake run, so that a test can script trainers as cold
 * Observables on a TestScheduler and check subscription timing, completion and errors frame by frame.
 */
import { runId, type RunSpec } from '../config/spec.js';
import { PINNED } from '../data/identity.js';
import type { Dataset } from '../data/types.js';
import { diverged, type OptbenchError } from '../errors.js';
import type { SearchConfig } from '../sweep/search.js';
import type { EpochEnded, RunEnded, RunFailed, RunPaused, RunStarted, BatchEnded } from '../train/events.js';

/** A run spec on the fixture subset (cpu, FCNN, one epoch of batch 50), with `over` applied. */
export const spec = (optimizer: string, over: Partial<RunSpec> = {}): RunSpec => ({
  dataset: 'fashion-mini',
  model: 'fcnn',
  optimizer: { name: optimizer, preset: 'tfkeras2', overrides: {} },
  seed: 0,
  epochs: 1,
  batchSize: 50,
  backend: 'cpu',
  ...over,
});

/**
 * A Dataset that only names itself (as the specs above do: the fixture subset, with the contents its name
 * pins), for fake trainers, which never read its images.
 */
export const fakeData = (name = 'fashion-mini', train = 500): Dataset =>
  ({ name, dir: '', verified: false, md5: PINNED['fashion-mini'], classNames: ['a', 'b'], train: { count: train }, test: { count: 100 } }) as unknown as Dataset;

export const started = (s: RunSpec, over: Partial<RunStarted> = {}): RunStarted => ({
  type: 'RunStarted',
  runId: runId(s),
  spec: s,
  index: 1,
  total: 1,
  backend: 'cpu',
  parameters: 10,
  steps: 4,
  fromEpoch: 0,
  startedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

export const batch = (s: RunSpec, epoch = 1, step = 1): BatchEnded => ({
  type: 'BatchEnded',
  runId: runId(s),
  epoch,
  step,
  steps: 4,
  loss: 2 - step / 10,
  elapsedMs: 100 * step,
});

export const epochEnded = (s: RunSpec, epoch = 1, test: EpochEnded['test'] = { loss: 1.5, accuracy: 0.4 + epoch / 100 }): EpochEnded => ({
  type: 'EpochEnded',
  runId: runId(s),
  epoch,
  epochs: s.epochs,
  train: { loss: 2 / epoch, accuracy: 0.3 },
  test,
  evaluation: test === null ? null : { split: s.holdout !== undefined ? 'validation' : 'test', batchSize: 200 },
  trainMs: 1000,
  evalMs: test === null ? 0 : 100,
});

export const ended = (s: RunSpec, final: RunEnded['final'] = { testLoss: 1.5, testAccuracy: 0.45 }): RunEnded => ({
  type: 'RunEnded',
  runId: runId(s),
  spec: s,
  final,
  confusion: final === null ? null : [
    [3, 1],
    [2, 4],
  ],
  vae: null,
  trainMs: 1000 * s.epochs,
  evalMs: final === null ? 0 : 100 * s.epochs,
});

export const paused = (s: RunSpec, epochsDone: number): RunPaused => ({ type: 'RunPaused', runId: runId(s), spec: s, epochsDone });

export const failed = (s: RunSpec, error: OptbenchError = diverged({ epoch: 1, step: 1, loss: NaN, message: 'nan' }), epochsDone = 0): RunFailed => ({
  type: 'RunFailed',
  runId: runId(s),
  spec: s,
  error,
  epochsDone,
});

/** A small search config (one log-uniform learning rate), for the sweep operators' specs. */
export const searchConfig = (over: Partial<SearchConfig> = {}): SearchConfig => ({
  dataset: 'fashion-mini',
  model: 'fcnn',
  optimizer: 'adam',
  preset: 'tfkeras2',
  space: [{ name: 'lr', kind: 'log', lo: 1e-3, hi: 1e-1 }],
  strategy: 'grid',
  trials: 2,
  epochs: 1,
  minEpochs: 1,
  eta: 3,
  searchSeed: 0,
  holdout: 10,
  batchSize: 10,
  backend: 'cpu',
  direction: 'max',
  ...over,
});
