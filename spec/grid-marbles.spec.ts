import { strict as assert } from 'node:assert';
import { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { RunSpec } from '../lib/config/spec.js';
import type { Dataset } from '../lib/data/types.js';
import { interrupted, diverged, type OptbenchError } from '../lib/errors.js';
import type { RunEvent } from '../lib/train/events.js';
import { planGrid, trainGrid, type RunTrainer } from '../lib/train/grid.js';

// Marble tests of trainGrid's ordering, completion and error behaviour, with a fake trainer whose runs
// are cold Observables on the test scheduler.

const spec = (model: string, optimizer: string): RunSpec =>
  ({
    dataset: 'fashion-mnist',
    model,
    optimizer: { name: optimizer, preset: 'tfkeras2', overrides: {} },
    seed: 0,
    epochs: 1,
    batchSize: 200,
    backend: 'cpu',
  }) as RunSpec;

const data = { name: 'fake' } as unknown as Dataset;
const started = (s: RunSpec): RunEvent =>
  ({ type: 'RunStarted', runId: s.optimizer.name, spec: s }) as unknown as RunEvent;
const ended = (s: RunSpec): RunEvent => ({ type: 'RunEnded', runId: s.optimizer.name, spec: s }) as unknown as RunEvent;
const failed = (s: RunSpec, error: OptbenchError = diverged({ epoch: 1, step: 1, loss: NaN, message: 'nan' })): RunEvent =>
  ({ type: 'RunFailed', runId: s.optimizer.name, spec: s, error, epochsDone: 0 }) as RunEvent;

const newScheduler = () => new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));

describe('trainGrid (marbles)', () => {
  const a = spec('fcnn', 'adam');
  const b = spec('fcnn', 'sgd');
  const c = spec('fcnn', 'nadam');

  it('runs the specs one after another, in order, and completes after the last', () => {
    newScheduler().run(({ cold, hot, expectObservable }) => {
      const runs: Record<string, Observable<RunEvent>> = {
        adam: cold('s-e|', { s: started(a), e: ended(a) }),
        sgd: cold('s--e|', { s: started(b), e: ended(b) }),
      };
      const trainer: RunTrainer = (s) => runs[s.optimizer.name]!;
      const source = hot('^d|', { d: data });
      // adam occupies frames 1-4; sgd starts when adam completes, at frame 4.
      expectObservable(source.pipe(trainGrid([a, b], { trainer }))).toBe('-s-ea--b|', {
        s: started(a),
        e: ended(a),
        a: started(b),
        b: ended(b),
      });
    });
  });

  it('goes on after a failed run', () => {
    newScheduler().run(({ cold, hot, expectObservable }) => {
      const runs: Record<string, Observable<RunEvent>> = {
        adam: cold('f|', { f: failed(a) }),
        sgd: cold('e|', { e: ended(b) }),
      };
      const trainer: RunTrainer = (s) => runs[s.optimizer.name]!;
      expectObservable(hot('^d|', { d: data }).pipe(trainGrid([a, b], { trainer }))).toBe('-fe|', {
        f: failed(a),
        e: ended(b),
      });
    });
  });

  it('stops after an interrupted run, passing its RunFailed on', () => {
    const stop = failed(a, interrupted('Ctrl-C'));
    const calls: string[] = [];
    newScheduler().run(({ cold, hot, expectObservable }) => {
      const trainer: RunTrainer = (s) => {
        calls.push(s.optimizer.name);
        return s.optimizer.name === 'adam' ? cold('i|', { i: stop }) : cold('e|', { e: ended(s) });
      };
      expectObservable(hot('^d|', { d: data }).pipe(trainGrid([a, b, c], { trainer }))).toBe('-i|', { i: stop });
    });
    assert.deepEqual(calls, ['adam']);
  });

  it('passes an error of the data source on and trains nothing', () => {
    newScheduler().run(({ hot, expectObservable }) => {
      let calls = 0;
      const trainer: RunTrainer = () => {
        calls++;
        return new Observable<RunEvent>();
      };
      const missing = { _tag: 'DatasetMissing', message: 'no data', searched: [] };
      expectObservable(hot<Dataset>('^#', undefined, missing).pipe(trainGrid([a], { trainer }))).toBe('-#', undefined, missing);
      assert.equal(calls, 0);
    });
  });

  it('tells each run its place in the grid', () => {
    newScheduler().run(({ cold, hot, expectObservable }) => {
      const seen: Array<[string, number, number]> = [];
      const trainer: RunTrainer = (s, _d, ctx) => {
        seen.push([s.optimizer.name, ctx.index, ctx.total]);
        return cold('e|', { e: ended(s) });
      };
      expectObservable(hot('^d|', { d: data }).pipe(trainGrid([a, b, c], { trainer }))).toBe('-abc|', {
        a: ended(a),
        b: ended(b),
        c: ended(c),
      });
    });
  });
});

describe('planGrid', () => {
  it('orders runs model by model, then seed, then optimizer, with shared settings', () => {
    const specs = planGrid({
      dataset: 'fashion-mnist',
      models: ['fcnn', 'scnn'],
      optimizers: [{ name: 'adam' }, { name: 'sgd', overrides: { lr: 0.1 } }],
      preset: 'tfkeras2',
      seeds: 2,
      epochs: 3,
      batchSize: 200,
      backend: 'cpu',
      subset: 1000,
    });
    assert.deepEqual(
      specs.map((s) => `${s.model}/${s.optimizer.name}/${s.seed}`),
      ['fcnn/adam/0', 'fcnn/sgd/0', 'fcnn/adam/1', 'fcnn/sgd/1', 'scnn/adam/0', 'scnn/sgd/0', 'scnn/adam/1', 'scnn/sgd/1'],
    );
    assert.deepEqual(specs[1]!.optimizer.overrides, { lr: 0.1 });
    assert.ok(specs.every((s) => s.epochs === 3 && s.batchSize === 200 && s.subset === 1000 && s.testSubset === undefined));
  });
});
