import { strict as assert } from 'node:assert';
import { lastValueFrom, toArray } from 'rxjs';
import { loadFashion$, type LoadConfig } from '../../lib/data/load.js';
import { newScheduler } from '../support/marbles.js';

describe('loadFashion$ (marbles where time is virtual)', () => {
  it('a config that does not decode is an InvalidConfig at subscription, naming the field', () => {
    newScheduler().run(({ expectObservable }) => {
      expectObservable(loadFashion$({ dir: 42 } as unknown as LoadConfig)).toBe('#', undefined, {
        _tag: 'InvalidConfig',
        path: 'dir',
        message: 'Invalid data config: dir must be string, got 42.',
      });
    });
  });

  it('is cold: nothing is read until it is subscribed, and each subscription loads the data again', async () => {
    const data$ = loadFashion$({ dir: 'fixtures/fashion-mini', dataset: 'fashion-mini' });
    const [a] = await lastValueFrom(data$.pipe(toArray()));
    const [b] = await lastValueFrom(data$.pipe(toArray()));
    assert.equal(a!.train.count, 500);
    assert.notEqual(a!.train.images, b!.train.images, 'a second subscription is a second load');
    assert.deepEqual(a!.train.labels, b!.train.labels);
  });
});
