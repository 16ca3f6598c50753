import { strict as assert } from 'node:assert';
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { catchError, lastValueFrom, of, tap, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { runId as specId, type RunSpec } from '../lib/config/spec.js';
import { diverged, type OptbenchError } from '../lib/errors.js';
import type { EpochEnded, RunEvent, RunFailed } from '../lib/train/events.js';
import { persist, storePath } from '../lib/store/index.js';
import { right, spec, started, epoch, ended, fullRun, useStoreDir } from './support/store.js';

describe('store: persist', () => {
  const { dir, open } = useStoreDir();

  it('writes every event of a run and passes each on unchanged, in order', async () => {
    const store = open();
    const s = spec('adam');
    const events = fullRun(s);
    // Another connection sees each epoch committed by the time the event arrives downstream.
    const reader = open();
    const seenAtArrival: number[] = [];
    const out = await lastValueFrom(
      of(...events).pipe(
        persist(store),
        tap((e) => {
          if (e.type === 'EpochEnded') seenAtArrival.push(right(reader.completedEpochs(e.runId)));
        }),
        toArray(),
      ),
    );
    reader.close();
    assert.deepEqual(seenAtArrival, [1, 2, 3]);
    assert.deepEqual(out, events);
    assert.equal(out[1], events[1], 'the same objects are passed on');

    const id = specId(s);
    const epochs = right(store.runEpochs(id));
    assert.deepEqual(
      epochs,
      events
        .filter((e): e is EpochEnded => e.type === 'EpochEnded')
        .map((e) => ({ epoch: e.epoch, train: e.train, test: e.test, trainMs: e.trainMs, evalMs: e.evalMs })),
    );
    const [row] = right(store.listRuns());
    assert.equal(row!.status, 'done');
    assert.equal(row!.epochsDone, 3);
    assert.equal(row!.backend, 'cpu');
    assert.equal(row!.parameters, 101_770);
    assert.equal(row!.trainMs, 3001);
    assert.equal(row!.host, hostname());
    assert.equal(row!.pid, process.pid);
    assert.equal(row!.versions.node, process.versions.node);
    assert.equal(row!.versions.tfjs, '4.22.0');
    assert.equal(row!.owner, null, 'a finished run is released');
    const [rec] = right(store.toRunRecords());
    assert.deepEqual(rec!.final, ended(s).final);
    assert.deepEqual(rec!.confusion, ended(s).confusion);
    assert.equal(rec!.status, 'done');
    assert.deepEqual(rec!.spec, s);
    store.close();
  });

  it('keeps VAE grids and NaN losses as they were', async () => {
    const store = open();
    const s = spec('sgd', { model: 'vae-dense' });
    const vae = { rows: 2, cols: 11, steps: [-3, 0, 3], traversal: ['AAEC', 'AwQF'], samples: 'BgcI' };
    const e1: EpochEnded = { ...epoch(s, 1), train: { loss: NaN, accuracy: null }, test: { loss: 12.5, accuracy: null } };
    await lastValueFrom(of<RunEvent[]>(started(s), e1, ended(s, vae)).pipe(persist(store), toArray()));
    const [rec] = right(store.toRunRecords());
    assert.deepEqual(rec!.vae, vae);
    assert.ok(Number.isNaN(rec!.epochs[0]!.train.loss));
    assert.equal(rec!.epochs[0]!.train.accuracy, null);
    store.close();
  });

  it('records a failed run and why, even one that failed before it started', async () => {
    const store = open();
    const a = spec('sgd');
    const b = spec('nadam');
    const fail = (s: RunSpec, epochsDone: number): RunFailed => ({
      type: 'RunFailed',
      runId: specId(s),
      spec: s,
      error: diverged({ epoch: 2, step: 17, loss: NaN, message: 'Training diverged at epoch 2, step 17.' }),
      epochsDone,
    });
    await lastValueFrom(
      of<RunEvent[]>(started(a), epoch(a, 1), epoch(a, 2), fail(a, 1), fail(b, 0)).pipe(persist(store), toArray()),
    );
    const rows = right(store.listRuns());
    const byId = new Map(rows.map((r) => [r.runId, r]));
    for (const s of [a, b]) {
      const r = byId.get(specId(s))!;
      assert.equal(r.status, 'failed');
      assert.equal(r.error?._tag, 'Diverged');
      assert.match(r.error!.message, /diverged at epoch 2/);
    }
    assert.equal(byId.get(specId(a))!.epochsDone, 1, 'the epoch that did not complete is not kept');
    // A failed run is tried again.
    assert.equal(right(store.claimRun(specId(a), a)), 'claimed');
    store.close();
  });

  it('resumes: a RunStarted from epoch k drops the epochs after k, which are trained again', async () => {
    const store = open();
    const s = spec('rmsprop');
    await lastValueFrom(of<RunEvent[]>(started(s), epoch(s, 1), epoch(s, 2)).pipe(persist(store), toArray()));
    assert.equal(right(store.completedEpochs(specId(s))), 2);
    await lastValueFrom(of<RunEvent[]>(started(s, 1)).pipe(persist(store), toArray()));
    assert.equal(right(store.completedEpochs(specId(s))), 1);
    await lastValueFrom(of<RunEvent[]>(epoch(s, 2), epoch(s, 3), ended(s)).pipe(persist(store), toArray()));
    assert.deepEqual(
      right(store.runEpochs(specId(s))).map((e) => e.epoch),
      [1, 2, 3],
    );
    store.close();
  });

  it('passes events through at the same frames and propagates errors (marbles)', () => {
    const store = open();
    const s = spec('adagrad');
    const orphan = spec('adadelta');
    const values = { a: started(s), b: fullRun(s)[1]!, c: epoch(s, 1), d: ended(s), x: epoch(orphan, 1) };
    // One scheduler per run: frames would otherwise carry on from the previous one.
    const scheduler = () => new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b--c-d-|', values).pipe(persist(store))).toBe('-a-b--c-d-|', values);
    });
    const boom = { _tag: 'InternalError', message: 'upstream failed' };
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-#', values, boom).pipe(persist(store))).toBe('-a-#', values, boom);
    });
    // A write that fails (an epoch of a run that never started) ends the stream with a typed error.
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('-a-x-c-|', values).pipe(
        persist(store),
        catchError((e: OptbenchError) => of({ tag: e._tag, names: e.message.includes(specId(orphan)) })),
      );
      expectObservable(out).toBe('-a-(t|)', { ...values, t: { tag: 'StoreError', names: true } });
    });
    store.close();
  });

  it('a write failure (disk full) errors the stream and loses nothing committed before', async () => {
    const s = spec('adamax', { epochs: 4 });
    const first = open();
    await lastValueFrom(of<RunEvent[]>(started(s), epoch(s, 1), epoch(s, 2)).pipe(persist(first), toArray()));
    first.close();
    // A quota just above the current size stands in for a full disk: SQLite then fails with SQLITE_FULL.
    // Closing the last connection folds the WAL into the file, so its size is the store's size.
    const size = statSync(storePath(dir())).size;
    const full = open({ maxBytes: size + 8192 });
    const big = { rows: 1, cols: 1, steps: [0], traversal: ['x'.repeat(400_000)], samples: 'y' };
    const seen: RunEvent[] = [];
    let error: OptbenchError | undefined;
    await new Promise<void>((resolve) =>
      of<RunEvent[]>(started(s, 2), epoch(s, 3), { ...ended(s, big) }, epoch(s, 4))
        .pipe(persist(full))
        .subscribe({
          next: (e) => seen.push(e),
          error: (e: OptbenchError) => {
            error = e;
            resolve();
          },
          complete: resolve,
        }),
    );
    assert.equal(error?._tag, 'IoError');
    assert.match(error!.message, /disk is (probably )?full/);
    assert.ok(error!.message.includes(storePath(dir())));
    assert.deepEqual(
      seen.map((e) => e.type),
      ['RunStarted', 'EpochEnded'],
      'the event that could not be written is not passed on',
    );
    full.close();
    const again = open();
    assert.deepEqual(
      right(again.runEpochs(specId(s))).map((e) => e.epoch),
      [1, 2, 3],
    );
    const [row] = right(again.listRuns());
    assert.notEqual(row!.status, 'done');
    assert.equal(row!.final, null);
    again.close();
  });
});
