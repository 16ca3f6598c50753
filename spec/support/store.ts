/** Helpers shared by the store's specs (spec/store-*.spec.ts): events of a run, Either unwrapping, a store per test. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { runId as specId, type RunSpec } from '../../lib/config/spec.js';
import type { OptbenchError } from '../../lib/errors.js';
import type { EpochEnded, RunEnded, RunEvent, RunStarted } from '../../lib/train/events.js';
import { openStore, storePath, type Store, type StoreOptions } from '../../lib/store/index.js';

export const right = <A>(r: E.Either<OptbenchError, A>): A => {
  if (E.isLeft(r)) assert.fail(`expected Right, got ${r.left._tag}: ${r.left.message}`);
  return r.right;
};
export const left = <A>(r: E.Either<OptbenchError, A>): OptbenchError => {
  if (E.isRight(r)) assert.fail('expected Left, got Right');
  return r.left;
};

export const spec = (optimizer: string, over: Record<string, unknown> = {}): RunSpec =>
  ({
    dataset: 'fashion-mnist',
    model: 'fcnn',
    optimizer: { name: optimizer, preset: 'keras', overrides: {} },
    seed: 0,
    epochs: 3,
    batchSize: 200,
    backend: 'cpu',
    ...over,
  }) as RunSpec;

export const started = (s: RunSpec, fromEpoch = 0): RunStarted => ({
  type: 'RunStarted',
  runId: specId(s),
  spec: s,
  index: 1,
  total: 1,
  backend: s.backend,
  parameters: 101_770,
  steps: 300,
  fromEpoch,
  startedAt: '2026-01-01T00:00:00.000Z',
});

/** Metrics that are distinct per run and epoch and not round in binary, so that any rounding shows. */
export const epoch = (s: RunSpec, k: number): EpochEnded => ({
  type: 'EpochEnded',
  runId: specId(s),
  epoch: k,
  epochs: s.epochs,
  train: { loss: 1 / (k + 2) + Math.PI * 1e-9, accuracy: 0.5 + k / 7 / 10 },
  test: { loss: 1 / (k + 3) + Math.E * 1e-10, accuracy: 0.4 + k / 9 / 10 },
  evaluation: { split: 'test', batchSize: 200 },
  trainMs: 1000 + k / 3,
  evalMs: 100 + k / 11,
});

export const ended = (s: RunSpec, vae: RunEnded['vae'] = null): RunEnded => ({
  type: 'RunEnded',
  runId: specId(s),
  spec: s,
  final: { testLoss: 0.3125 + 1e-12, testAccuracy: 0.8876 },
  confusion: [
    [5, 1],
    [2, 7],
  ],
  vae,
  trainMs: 3001,
  evalMs: 301,
});

export const fullRun = (s: RunSpec): RunEvent[] => [
  started(s),
  { type: 'BatchEnded', runId: specId(s), epoch: 1, step: 10, steps: 300, loss: 0.9, elapsedMs: 5 },
  ...Array.from({ length: s.epochs }, (_, i) => epoch(s, i + 1)),
  ended(s),
];

/**
 * A fresh temporary directory for each test of the describe block that calls this, removed after the
 * test, and `open` for the store in it. Call it inside `describe`: hooks outside one would be mocha's root
 * hooks and run around every test of the whole suite.
 */
export const useStoreDir = (): { readonly dir: () => string; readonly open: (opts?: StoreOptions) => Store } => {
  let current = '';
  beforeEach(() => {
    current = mkdtempSync(join(tmpdir(), 'optbench-store-'));
  });
  afterEach(() => {
    rmSync(current, { recursive: true, force: true });
  });
  return { dir: () => current, open: (opts = {}) => right(openStore(storePath(current), opts)) };
};
