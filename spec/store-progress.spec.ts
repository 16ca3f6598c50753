/**
 * Where a training run is inside its epoch, as the store keeps it for readers in other processes (the
 * live page): BatchEnded is the run's heartbeat, and at most every progressEveryMs that one write also
 * records the epoch and step; the end of the epoch or of the run clears them.
 */
import { strict as assert } from 'node:assert';
import Database from 'better-sqlite3';
import { runId as specId, type RunSpec } from '../lib/config/spec.js';
import { openStore, storePath, type Store } from '../lib/store/index.js';
import type { BatchEnded } from '../lib/train/events.js';
import { diverged } from '../lib/errors.js';
import { ended, epoch, right, spec, started, useStoreDir } from './support/store.js';

const batch = (s: RunSpec, e: number, step: number): BatchEnded => ({ type: 'BatchEnded', runId: specId(s), epoch: e, step, steps: 300, loss: 1, elapsedMs: step });

describe('store: the step of a training run', () => {
  const { dir, open } = useStoreDir();
  let raw: Database.Database | undefined;
  afterEach(() => {
    raw?.close();
    raw = undefined;
  });

  /** The columns as they are on disk, and how many commits other connections made so far. */
  const onDisk = () => {
    raw ??= new Database(storePath(dir()), { readonly: true });
    const r = raw.prepare('SELECT progress_epoch AS epoch, progress_step AS step, heartbeat_at AS beat FROM runs').get() as { epoch: number | null; step: number | null; beat: number | null };
    return { ...r, commits: raw.pragma('data_version', { simple: true }) as number };
  };
  const progressIn = (store: Store) => right(store.listRuns()).map((r) => [r.status, r.epochsDone, r.progress, r.steps]);

  it('is recorded with the heartbeat, at most every progressEveryMs (no write for the BatchEnded between), and cleared when the epoch ends', () => {
    let clock = 1_700_000_000_000;
    const a = open({ now: () => clock });
    const s = spec('adam');
    right(a.claimRun(specId(s), s));
    right(a.writeEvent(started(s)));
    const t0 = onDisk();
    assert.deepEqual([t0.epoch, t0.step], [null, null]);
    clock += 400;
    right(a.writeEvent(batch(s, 1, 10)));
    assert.deepEqual(onDisk(), t0, 'within a second of the last heartbeat: nothing written');
    clock += 600;
    right(a.writeEvent(batch(s, 1, 25)));
    const t1 = onDisk();
    assert.deepEqual([t1.epoch, t1.step, t1.beat], [1, 25, clock], 'one heartbeat a second (the default), with the step');
    assert.equal(t1.commits, t0.commits + 1);
    clock += 999;
    right(a.writeEvent(batch(s, 1, 40)));
    assert.deepEqual(onDisk(), t1);
    // Any reader of the store sees it: another store on the file, and a read-only one (as optbench serve opens it).
    const reader = open({ now: () => clock });
    assert.deepEqual(progressIn(reader), [['running', 0, { epoch: 1, step: 25 }, 300]]);
    const ro = right(openStore(storePath(dir()), { readonly: true, now: () => clock }));
    assert.deepEqual(progressIn(ro), [['running', 0, { epoch: 1, step: 25 }, 300]]);
    ro.close();
    right(a.writeEvent(epoch(s, 1)));
    assert.deepEqual([onDisk().epoch, onDisk().step], [null, null], 'the epoch ended: no step of the next one is known yet');
    assert.deepEqual(progressIn(reader), [['running', 1, null, 300]]);
    clock += 1000;
    right(a.writeEvent(batch(s, 2, 3)));
    assert.deepEqual(progressIn(reader), [['running', 1, { epoch: 2, step: 3 }, 300]]);
    right(a.writeEvent(epoch(s, 2)));
    right(a.writeEvent(epoch(s, 3)));
    clock += 5000;
    right(a.writeEvent(ended(s)));
    assert.deepEqual([onDisk().epoch, onDisk().step], [null, null]);
    assert.deepEqual(progressIn(reader), [['done', 3, null, 300]]);
    reader.close();
    a.close();
  });

  it('follows progressEveryMs (0: every BatchEnded) and the lease heartbeat when that is the shorter', () => {
    let clock = 1_700_000_000_000;
    const s = spec('sgd');
    const every = open({ now: () => clock, progressEveryMs: 0 });
    right(every.claimRun(specId(s), s));
    right(every.writeEvent(started(s)));
    for (const step of [1, 2, 3]) {
      clock += 1;
      right(every.writeEvent(batch(s, 1, step)));
      assert.equal(onDisk().step, step);
    }
    every.close();
    const t = spec('nadam');
    const beats = open({ now: () => clock, progressEveryMs: 60_000, heartbeatEveryMs: 2000 });
    right(beats.claimRun(specId(t), t));
    right(beats.writeEvent(started(t)));
    clock += 1999;
    right(beats.writeEvent(batch(t, 1, 7)));
    const row = () => right(beats.listRuns()).find((r) => r.runId === specId(t))!.progress;
    assert.equal(row(), null);
    clock += 1;
    right(beats.writeEvent(batch(t, 1, 8)));
    assert.deepEqual(row(), { epoch: 1, step: 8 });
    beats.close();
  });

  it('is cleared when the run fails, pauses or is interrupted, and not shown for a run whose holder is gone', () => {
    let clock = 1_700_000_000_000;
    const now = () => clock;
    const cases: [string, (a: Store, s: RunSpec) => void][] = [
      ['failed', (a, s) => right(a.writeEvent({ type: 'RunFailed', runId: specId(s), spec: s, error: diverged({ epoch: 2, step: 5, loss: NaN, message: 'NaN' }), epochsDone: 1 }))],
      ['interrupted', (a, s) => right(a.writeEvent({ type: 'RunPaused', runId: specId(s), spec: s, epochsDone: 1 }))],
      ['interrupted', (a, s) => right(a.markInterrupted(specId(s)))],
      ['running', (a, s) => right(a.releaseRun(specId(s)))],
    ];
    const stores: Store[] = [];
    cases.forEach(([, end], i) => {
      const a = open({ now, progressEveryMs: 0 });
      stores.push(a);
      const s = spec('adam', { seed: i });
      right(a.claimRun(specId(s), s));
      right(a.writeEvent(started(s)));
      right(a.writeEvent(epoch(s, 1)));
      right(a.writeEvent(batch(s, 2, 5)));
      end(a, s);
    });
    const rows = (raw ??= new Database(storePath(dir()), { readonly: true })).prepare('SELECT id, status, progress_epoch AS e, progress_step AS p FROM runs').all() as { id: string }[];
    assert.deepEqual(
      cases.map((_, i) => Object.values(rows.find((r) => r.id === specId(spec('adam', { seed: i })))!)),
      cases.map(([status], i) => [specId(spec('adam', { seed: i })), status, null, null]),
    );
    // A holder that stops beating: its last step is not shown once its lease is gone.
    const s = spec('adamax');
    const a = open({ now, progressEveryMs: 0, leaseMs: 60_000, owner: { host: 'elsewhere', pid: 4242 } });
    right(a.claimRun(specId(s), s));
    right(a.writeEvent(started(s)));
    right(a.writeEvent(batch(s, 1, 9)));
    const reader = open({ now, leaseMs: 60_000 });
    const mine = () => right(reader.listRuns()).find((r) => r.runId === specId(s))!;
    assert.deepEqual([mine().status, mine().progress], ['running', { epoch: 1, step: 9 }]);
    clock += 61_000;
    assert.deepEqual([mine().status, mine().progress], ['interrupted', null]);
    reader.close();
    for (const st of [...stores, a]) st.close();
  });
});
