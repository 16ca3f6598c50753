import { concatMap, of, type Observable } from 'rxjs';
import * as E from 'fp-ts/lib/Either.js';
import { isRunEvent, type StreamEvent } from '../train/events.js';
import { isTargetReached } from '../train/target.js';
import type { Store } from './store.js';
import { raise } from '../observable.js';

/**
 * Writes each run event, and each TargetReached (reachTarget), to the store (one transaction each) before
 * passing it on, so that whatever a later operator sees is already on disk. BatchEnded is not recorded as
 * such: about once a second it is the run's heartbeat (its lease, and its epoch and step for the live
 * page), otherwise it passes unwritten, as does every event that is not a run's. A failed write ends the
 * stream with its typed error; what was committed before stays. It keeps no state of its own: every
 * subscription writes through `store`.
 */
export const persist =
  (store: Store) =>
  <E extends StreamEvent>(events: Observable<E>): Observable<E> =>
    events.pipe(
      concatMap((e) => {
        if (!isRunEvent(e) && !isTargetReached(e)) return of(e);
        const written = store.writeEvent(e);
        return E.isLeft(written) ? raise(written.left) : of(e);
      }),
    );
