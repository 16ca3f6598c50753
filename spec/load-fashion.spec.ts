import { strict as assert } from 'node:assert';
import { catchError, lastValueFrom, of, toArray } from 'rxjs';
import { OptbenchFailure } from '../lib/errors.js';
import { loadFashion$, type LoadConfig } from '../lib/data/load.js';
import { newScheduler } from './support/marbles.js';

// loadFashion$ reads files, so only its refusal at subscription is a marble (virtual time, nothing read);
// the rest is real I/O on the fixture.
describe('loadFashion$', () => {
  it('a config that does not decode is an InvalidConfig (an Error) at subscription, before anything is read', () => {
    newScheduler().run(({ expectObservable }) => {
      const refused = loadFashion$({ dir: 42 } as unknown as LoadConfig).pipe(
        catchError((e: unknown) => of(e instanceof OptbenchFailure ? `${e._tag} ${e.error._tag === 'InvalidConfig' ? e.error.path : ''}: ${e.message}` : String(e))),
      );
      expectObservable(refused).toBe('(e|)', { e: 'InvalidConfig dir: Invalid data config: dir must be string, got 42.' });
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
