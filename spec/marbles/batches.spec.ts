import { strict as assert } from 'node:assert';
import { epochOrder, seededBatches, type Batcher } from '../../lib/data/batches.js';
import { batches } from '../../lib/data/batches-stage.js';
import type { Dataset, Split } from '../../lib/data/types.js';
import { fakeData, newScheduler } from '../support/marbles.js';

describe('batches (marbles) and the ix batching stage', () => {
  const reversed: Batcher = (train, at) => [...seededBatches(train, at)].reverse();

  it('every Dataset that passes carries the batcher, at its frame; completion and errors pass', () => {
    const a = fakeData('a');
    const b = fakeData('b');
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Dataset>('a-b-#', { a, b }, { _tag: 'DatasetMissing', message: 'gone', searched: [] });
      expectObservable(source.pipe(batches(reversed))).toBe('a-b-#', { a: { ...a, batcher: reversed }, b: { ...b, batcher: reversed } }, {
        _tag: 'DatasetMissing',
        message: 'gone',
        searched: [],
      });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('without a batcher it attaches the protocol\'s, seededBatches', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const a = fakeData('a');
      expectObservable(cold<Dataset>('a|', { a }).pipe(batches())).toBe('a|', { a: { ...a, batcher: seededBatches } });
    });
  });

  it('seededBatches: the epoch\'s seeded permutation in batches of batchSize (the last the remainder), pixels and labels gathered', () => {
    const n = 23;
    const split: Split = {
      images: Float32Array.from({ length: n * 4 }, (_, i) => i),
      labels: Uint8Array.from({ length: n }, (_, i) => i % 10),
      count: n,
      rows: 2,
      cols: 2,
    };
    const got = [...seededBatches(split, { seed: 7, epoch: 3, batchSize: 10 })];
    const order = [...epochOrder(n, 7, 3)];
    assert.deepEqual(got.map((b) => b.indices.length), [10, 10, 3]);
    assert.deepEqual(got.flatMap((b) => [...b.indices]), order);
    assert.deepEqual(got.map((b) => b.step), [0, 1, 2]);
    for (const b of got) {
      assert.deepEqual([...b.y], [...b.indices].map((j) => j % 10));
      assert.deepEqual([...b.x], [...b.indices].flatMap((j) => [4 * j, 4 * j + 1, 4 * j + 2, 4 * j + 3]));
    }
    // Another epoch, another order; the same (seed, epoch), the same order.
    assert.notDeepEqual([...seededBatches(split, { seed: 7, epoch: 4, batchSize: 10 })].flatMap((b) => [...b.indices]), order);
    assert.deepEqual([...seededBatches(split, { seed: 7, epoch: 3, batchSize: 10 })].flatMap((b) => [...b.indices]), order);
  });

  it('seededBatches is pulled: only the batches a consumer asks for are gathered', () => {
    let reads = 0;
    // Count gathers through the labels the stage reads, one per example.
    const labels = new Proxy(new Uint8Array(100), { get: (t, k) => (typeof k === 'string' && /^\d+$/.test(k) && reads++, Reflect.get(t, k)) });
    const counting = { images: new Float32Array(100 * 4), labels, count: 100, rows: 2, cols: 2 } as Split;
    const it = seededBatches(counting, { seed: 1, epoch: 1, batchSize: 10 })[Symbol.iterator]();
    assert.equal(reads, 0, 'nothing gathered before the first pull');
    it.next();
    assert.equal(reads, 10, 'one batch gathered per pull');
    it.next();
    assert.equal(reads, 20);
  });
});
