import { concatMap, of, throwError, type MonoTypeOperatorFunction } from 'rxjs';
import * as E from 'fp-ts/lib/Either.js';
import type { RunEvent } from '../train/events.js';
import type { Store } from './store.js';

/**
 * Writes each RunEvent to the store (one transaction each) before passing it on, so that whatever a later
 * operator sees is already on disk. BatchEnded is passed on unwritten (it only renews the run's lease now and
 * then). A failed write ends the stream with its typed error; what was committed before stays.
 */
export const persist =
  (store: Store): MonoTypeOperatorFunction<RunEvent> =>
  (events) =>
    events.pipe(
      concatMap((e) => {
        const written = store.writeEvent(e);
        return E.isLeft(written) ? throwError(() => written.left) : of(e);
      }),
    );
