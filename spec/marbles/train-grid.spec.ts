import { strict as assert } from 'node:assert';
import { Observable } from 'rxjs';
import type { ColdObservable } from 'rxjs/internal/testing/ColdObservable';
import type { RunSpec } from '../../lib/config/spec.js';
import type { Dataset } from '../../lib/data/types.js';
import { interrupted } from '../../lib/errors.js';
import type { GridEvent, RunEvent } from '../../lib/train/events.js';
import { planGrid } from '../../lib/train/plan.js';
import { trainGrid } from '../../lib/train/train-grid.js';
import type { RunContext, RunTrainer } from '../../lib/train/trainer.js';
import { ended, epochEnded, failed, failureAsValue, fakeData, newScheduler, spec, started } from '../support/marbles.js';
import { OptbenchFailure } from '../../lib/errors.js';

// trainGrid's ordering, concurrency, completion, errors and unsubscription, with a fake trainer whose runs
// are cold Observables on the test scheduler. Every assertion on what the trainer was called with runs after
// the scheduler has flushed (run() returns), so that it checks what happened.

const a = spec('adam');
const b = spec('sgd');
const c = spec('nadam');
const data = fakeData();
const grid = (...specs: RunSpec[]): GridEvent => ({ type: 'GridStarted', specs, dataset: 'fashion-mini', classNames: ['a', 'b'] });

/** A trainer that plays back a cold Observable per optimizer and records every call. */
const fake = (runs: Record<string, Observable<RunEvent>>) => {
  const calls: Array<{ optimizer: string; ctx: RunContext }> = [];
  const trainer: RunTrainer = (s, _d, ctx) => {
    calls.push({ optimizer: s.optimizer.name, ctx });
    return runs[s.optimizer.name]!;
  };
  return { trainer, calls };
};

describe('trainGrid (marbles)', () => {
  it('starts with GridStarted, runs the specs one after another in order, completes after the last', () => {
    let adam!: ColdObservable<RunEvent>;
    let sgd!: ColdObservable<RunEvent>;
    newScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      adam = cold('-s-e|', { s: started(a), e: ended(a) });
      sgd = cold('-s--e|', { s: started(b), e: ended(b) });
      const { trainer } = fake({ adam, sgd });
      const source = hot<Dataset>('^d|', { d: data });
      // adam occupies frames 1-5; sgd starts when adam completes, at frame 5.
      expectObservable(source.pipe(trainGrid([a, b], { trainer }))).toBe('-gs-e-a--b|', {
        g: grid(a, b),
        s: started(a),
        e: ended(a),
        a: started(b),
        b: ended(b),
      });
      expectSubscriptions(adam.subscriptions).toBe('-^---!');
      expectSubscriptions(sgd.subscriptions).toBe('-----^----!');
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('concurrency 2: two runs in flight from the start, the third when a slot frees', () => {
    newScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const adam = cold('-s----e|', { s: started(a), e: ended(a) });
      const sgd = cold('--s-e|', { s: started(b), e: ended(b) });
      const nadam = cold('s|', { s: started(c) });
      const { trainer } = fake({ adam, sgd, nadam });
      const out = hot<Dataset>('^d|', { d: data }).pipe(trainGrid([a, b, c], { trainer, concurrency: 2 }));
      expectObservable(out).toBe('-gst-und|', {
        g: grid(a, b, c),
        s: started(a),
        t: started(b),
        u: ended(b),
        n: started(c),
        d: ended(a),
      });
      expectSubscriptions(adam.subscriptions).toBe('-^------!');
      expectSubscriptions(sgd.subscriptions).toBe('-^----!');
      expectSubscriptions(nadam.subscriptions).toBe('------^!');
    });
  });

  it('goes on after a failed run', () => {
    newScheduler().run(({ cold, hot, expectObservable }) => {
      const { trainer } = fake({ adam: cold('(f|)', { f: failed(a) }), sgd: cold('(e|)', { e: ended(b) }) });
      expectObservable(hot<Dataset>('^(d|)', { d: data }).pipe(trainGrid([a, b], { trainer }))).toBe('-(gfe|)', {
        g: grid(a, b),
        f: failed(a),
        e: ended(b),
      });
    });
  });

  it('stops starting runs after an interrupted one, passing its RunFailed on', () => {
    const stop = failed(a, interrupted('Ctrl-C'));
    const f = fake({});
    newScheduler().run(({ cold, hot, expectObservable }) => {
      const runs = fake({ adam: cold('-i|', { i: stop }), sgd: cold('e|', { e: ended(b) }), nadam: cold('e|', { e: ended(c) }) });
      const trainer: RunTrainer = (s, d, ctx) => (f.trainer(s, d, ctx), runs.trainer(s, d, ctx));
      expectObservable(hot<Dataset>('^(d|)', { d: data }).pipe(trainGrid([a, b, c], { trainer }))).toBe('-gi|', { g: grid(a, b, c), i: stop });
    });
    // Read after the scheduler has flushed: the calls are made as it runs.
    assert.deepEqual(
      f.calls.map((x) => x.optimizer),
      ['adam'],
    );
  });

  it('passes an error of the data source on and trains nothing', () => {
    const f = fake({});
    newScheduler().run(({ hot, expectObservable }) => {
      const missing = new OptbenchFailure({ _tag: 'DatasetMissing', message: 'no data', searched: [] });
      expectObservable(hot<Dataset>('^#', undefined, missing).pipe(trainGrid([a], { trainer: f.trainer }))).toBe('-#', undefined, missing);
    });
    assert.equal(f.calls.length, 0);
  });

  it('tells each run its place in the grid, its epochs and the evaluation that travels with it', () => {
    const ev = { split: 'test' as const, batchSize: 100 };
    const f = fake({});
    const trainer: RunTrainer = (s, d, ctx) => {
      f.trainer(s, d, ctx);
      return new Observable<RunEvent>((sub) => {
        sub.next(ended(s));
        sub.complete();
      });
    };
    newScheduler().run(({ hot, expectObservable }) => {
      const two = spec('nadam', { epochs: 3 });
      expectObservable(hot<Dataset>('^(d|)', { d: data }).pipe(trainGrid([a, b, two], { trainer, evaluate: ev }))).toBe('-(gabc|)', {
        g: grid(a, b, two),
        a: ended(a),
        b: ended(b),
        c: ended(two),
      });
    });
    assert.deepEqual(
      f.calls.map((x) => [x.optimizer, x.ctx]),
      [
        ['adam', { index: 1, total: 3, evaluation: ev, untilEpoch: 1 }],
        ['sgd', { index: 2, total: 3, evaluation: ev, untilEpoch: 1 }],
        ['nadam', { index: 3, total: 3, evaluation: ev, untilEpoch: 3 }],
      ],
    );
  });

  it('unsubscribing mid-grid unsubscribes the run in flight and starts no other', () => {
    newScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const adam = cold('-s-x-e|', { s: started(a), x: epochEnded(a), e: ended(a) });
      const sgd = cold('s|', { s: started(b) });
      const { trainer } = fake({ adam, sgd });
      expectObservable(hot<Dataset>('^d|', { d: data }).pipe(trainGrid([a, b], { trainer })), '^--!').toBe('-gs', { g: grid(a, b), s: started(a) });
      expectSubscriptions(adam.subscriptions).toBe('-^-!');
      expectSubscriptions(sgd.subscriptions).toBe([]);
    });
  });

  it('a spec that does not decode is an InvalidConfig naming its path, before the data is even asked for', () => {
    newScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot<Dataset>('^d|', { d: data });
      const bad = [a, { ...b, seed: -1 }] as RunSpec[];
      expectObservable(source.pipe(trainGrid(bad, { trainer: fake({}).trainer }), failureAsValue())).toBe('(e|)', {
        e: 'InvalidConfig at specs[1].seed: Invalid run spec: specs[1].seed must be a seed from 0 to 2^32 - 1, got -1.',
      });
      expectSubscriptions(source.subscriptions).toBe([]);
    });
  });

  it('bad options (concurrency 0) are an InvalidConfig at subscription', () => {
    newScheduler().run(({ hot, expectObservable }) => {
      expectObservable(hot<Dataset>('^d|', { d: data }).pipe(trainGrid([a], { trainer: fake({}).trainer, concurrency: 0 }), failureAsValue())).toBe('(e|)', {
        e: 'InvalidConfig at concurrency: Invalid trainGrid options: concurrency must be a positive whole number, got 0.',
      });
    });
  });

  it('takes a GridPlan as well as a list of specs', () => {
    const plan = { dataset: 'fashion-mini', models: ['fcnn'], optimizers: [{ name: 'adam' }], preset: 'tfkeras2', seeds: 1, epochs: 1, batchSize: 50, backend: 'cpu' };
    newScheduler().run(({ cold, hot, expectObservable }) => {
      const { trainer } = fake({ adam: cold('(e|)', { e: ended(a) }) });
      expectObservable(hot<Dataset>('^(d|)', { d: data }).pipe(trainGrid(plan, { trainer }))).toBe('-(ge|)', { g: grid(a), e: ended(a) });
    });
  });
});

describe('planGrid', () => {
  it('orders runs model by model, then seed, then optimizer, with shared settings', () => {
    const planned = planGrid({
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
    assert.ok(planned._tag === 'Right');
    const specs = planned.right;
    assert.deepEqual(
      specs.map((s) => `${s.model}/${s.optimizer.name}/${s.seed}`),
      ['fcnn/adam/0', 'fcnn/sgd/0', 'fcnn/adam/1', 'fcnn/sgd/1', 'scnn/adam/0', 'scnn/sgd/0', 'scnn/adam/1', 'scnn/sgd/1'],
    );
    assert.deepEqual(specs[1]!.optimizer.overrides, { lr: 0.1 });
    assert.ok(specs.every((s) => s.epochs === 3 && s.batchSize === 200 && s.subset === 1000 && s.testSubset === undefined));
  });

  it('refuses a plan with a field of the wrong type, naming its path', () => {
    const r = planGrid({
      dataset: 'fashion-mnist',
      models: ['fcnn'],
      optimizers: [{ name: 'adam' }, { name: 'sgd', overrides: { lr: '0.1' as unknown as number } }],
      preset: 'tfkeras2',
      seeds: 1,
      epochs: 3,
      batchSize: 200,
      backend: 'cpu',
    });
    assert.ok(r._tag === 'Left');
    assert.equal(r.left._tag, 'InvalidConfig');
    assert.equal(r.left._tag === 'InvalidConfig' && r.left.path, 'optimizers[1].overrides.lr');
  });
});
