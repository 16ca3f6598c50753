import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { catchError, map, of, tap } from 'rxjs';
import { runId } from '../../lib/config/spec.js';
import type { OptbenchError } from '../../lib/errors.js';
import { persist } from '../../lib/store/persist.js';
import { openStore, type Store } from '../../lib/store/store.js';
import type { GridEvent } from '../../lib/train/events.js';
import { batch, ended, epochEnded, newScheduler, spec, started } from '../support/marbles.js';

// persist against a real store in a temporary directory: what a stage after it sees is already committed.

describe('persist (marbles)', () => {
  let dir: string;
  let store: Store;
  const s = spec('adam', { epochs: 2 });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'optbench-persist-'));
    store = E.getOrElseW((e: OptbenchError) => assert.fail(e.message))(openStore(join(dir, 'optbench.sqlite')));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** What the store says of the run, read by a stage after persist as each event passes. */
  const state = (): string => {
    const row = E.getOrElseW(() => assert.fail('listRuns'))(store.listRuns()).find((r) => r.runId === runId(s));
    return row ? `${row.status}:${row.epochsDone}` : 'absent';
  };

  it('commits each run event before the next stage sees it, passing every event on at its frame', () => {
    const states: string[] = [];
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const g: GridEvent = { type: 'GridStarted', specs: [s], dataset: 'fake', classNames: [] };
      const source = cold<GridEvent>('gs-b-e-f-x|', { g, s: started(s), b: batch(s), e: epochEnded(s, 1), f: epochEnded(s, 2), x: ended(s) });
      const out = source.pipe(
        persist(store),
        tap(() => states.push(state())),
        map((e) => e.type),
      );
      expectObservable(out).toBe('gs-b-e-f-x|', { g: 'GridStarted', s: 'RunStarted', b: 'BatchEnded', e: 'EpochEnded', f: 'EpochEnded', x: 'RunEnded' });
      expectSubscriptions(source.subscriptions).toBe('^---------!');
    });
    // GridStarted is not a run's: nothing is written; then the run, each epoch, the end, as they passed.
    assert.deepEqual(states, ['absent', 'running:0', 'running:0', 'running:1', 'running:2', 'done:2']);
    const records = E.getOrElseW(() => assert.fail('records'))(store.toRunRecords());
    assert.deepEqual(records[0]!.epochs.map((x) => x.test), [epochEnded(s, 1).test, epochEnded(s, 2).test]);
    assert.deepEqual(records[0]!.final, ended(s).final);
  });

  it('a write the store refuses ends the stream with its StoreError; what was committed before stays', () => {
    const other = spec('sgd');
    newScheduler().run(({ cold, expectObservable }) => {
      // An epoch of a run whose RunStarted never reached the store: a pipeline bug, refused.
      const out = cold<GridEvent>('s-e-x|', { s: started(s), e: epochEnded(other, 1), x: ended(s) }).pipe(
        persist(store),
        map((e) => e.type),
        catchError((err: OptbenchError) => of(err._tag)),
      );
      expectObservable(out).toBe('s-(e|)', { s: 'RunStarted', e: 'StoreError' });
    });
    assert.equal(state(), 'running:0');
  });

  it('passes an error of its source on unchanged', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const err = { _tag: 'DatasetMissing', message: 'no data', searched: [] };
      expectObservable(cold<GridEvent>('s#', { s: started(s) }, err).pipe(persist(store))).toBe('s#', { s: started(s) }, err);
    });
  });
});
