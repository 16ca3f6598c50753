import { concatMap, of, type Observable } from 'rxjs';
import * as E from 'fp-ts/lib/Either.js';
import type { Artifact } from './types.js';
import type { Store } from '../store/store.js';
import { raise } from '../observable.js';

/**
 * Records each file a report stage wrote (an Artifact from `renderD3`) in the store's artifacts table, with
 * its size and SHA-256, before passing it on: the run directory's store then says which files optbench
 * wrote there, and what they held. A failed write ends the stream with its StoreError.
 */
export const recordArtifacts =
  (store: Store, runId: string | null = null) =>
  (artifacts: Observable<Artifact>): Observable<Artifact> =>
    artifacts.pipe(
      concatMap((a) => {
        const recorded = store.recordArtifact({ runId, kind: a.kind, path: a.path, bytes: a.bytes });
        return E.isLeft(recorded) ? raise(recorded.left) : of(a);
      }),
    );
