import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { from, lastValueFrom, toArray } from 'rxjs';
import { runId as specId, type RunSpec } from '../lib/config/spec.js';
import { interrupted } from '../lib/errors.js';
import { openStore, persist, rebuildStore, storePath } from '../lib/store/index.js';
import type { EpochEnded, GridEvent, RunFailed } from '../lib/train/events.js';
import { recordRuns } from '../lib/train/recorder.js';
import type { GridRecord, RunRecord } from '../lib/train/record.js';
import type { TargetReached } from '../lib/train/target.js';
import { ended, epoch, right, spec, started, useStoreDir } from './support/store.js';

// What the store and the run directory keep of a run with a target: each epoch's held-out metrics beside
// its test metrics, and when it first reached its target, through resume, failure and a rebuild.

const s: RunSpec = spec('adam', { holdout: 10_000 });
const id = specId(s);
const held = (k: number): EpochEnded => ({ ...epoch(s, k), validation: { loss: 0.5 / k + 1e-11, accuracy: 0.8 + k / 50 + 1e-12 } });
const reached = (k: number): TargetReached => ({
  type: 'TargetReached',
  runId: id,
  metric: 'accuracy',
  goal: 0.84,
  value: held(k).validation!.accuracy!,
  epoch: k,
  step: 300 * k,
  seconds: 2.0001 + k / 7,
});

describe('store: held-out metrics and target hits', () => {
  const { dir, open } = useStoreDir();

  it('keeps each epoch\'s held-out metrics and the hit, exactly, in the records and the epochs', () => {
    const store = open();
    for (const e of [started(s), held(1), held(2), reached(2), held(3), ended(s)]) right(store.writeEvent(e));
    const [record] = right(store.toRunRecords());
    assert.deepEqual(
      record!.epochs.map((e) => e.validation),
      [1, 2, 3].map((k) => held(k).validation),
    );
    assert.deepEqual(record!.epochs.map((e) => e.test), [1, 2, 3].map((k) => held(k).test), 'the test metrics stay the test set\'s');
    const { type: _t, runId: _r, ...hit } = reached(2);
    assert.deepEqual(record!.reached, hit);
    assert.deepEqual(right(store.runEpochs(id)).map((e) => e.validation), [1, 2, 3].map((k) => held(k).validation));
    store.close();
  });

  it('an epoch without held-out metrics reads back without them; a run without a hit has none', () => {
    const store = open();
    const plain = spec('sgd');
    for (const e of [started(plain), epoch(plain, 1)]) right(store.writeEvent(e));
    const [record] = right(store.toRunRecords());
    assert.equal('validation' in record!.epochs[0]!, false);
    assert.equal(record!.reached, undefined);
    store.close();
  });

  it('a hit in an epoch trained again after a resume, or past a failure, is dropped with the epoch', () => {
    const store = open();
    for (const e of [started(s), held(1), held(2), reached(2)]) right(store.writeEvent(e));
    // Resumed from epoch 1's checkpoint: epoch 2 and its hit are trained again.
    right(store.writeEvent(started(s, 1)));
    assert.equal(right(store.toRunRecords())[0]!.reached, undefined);
    for (const e of [held(2), reached(2), held(3)]) right(store.writeEvent(e));
    assert.equal(right(store.toRunRecords())[0]!.reached?.epoch, 2);
    const failedAt1: RunFailed = { type: 'RunFailed', runId: id, spec: s, error: interrupted('stopped'), epochsDone: 1 };
    right(store.writeEvent(failedAt1));
    assert.equal(right(store.toRunRecords())[0]!.reached, undefined);
    store.close();
  });

  it('persist writes TargetReached as it passes, and recordRuns keeps it in the run file and the targets in grid.json', async () => {
    const store = open();
    const out = mkdtempSync(join(tmpdir(), 'optbench-target-rundir-'));
    try {
      const g: GridEvent = { type: 'GridStarted', specs: [s], dataset: 'fashion-mnist', classNames: [] };
      const targets = { fcnn: { metric: 'accuracy' as const, goal: 0.84 } };
      await lastValueFrom(from<(GridEvent | TargetReached)[]>([g, started(s), held(1), held(2), reached(2), held(3), ended(s)]).pipe(persist(store), recordRuns(out, { targets }), toArray()));
      const fromStore = right(store.toRunRecords())[0]!;
      const file = readdirSync(join(out, 'runs'))[0]!;
      const fromFile = JSON.parse(readFileSync(join(out, 'runs', file), 'utf8')) as RunRecord;
      assert.deepEqual(fromFile.reached, fromStore.reached);
      assert.deepEqual(fromFile.epochs.map((e) => e.validation), fromStore.epochs.map((e) => e.validation));
      assert.equal(fromFile.status, 'done');
      assert.deepEqual((JSON.parse(readFileSync(join(out, 'grid.json'), 'utf8')) as GridRecord).targets, targets);

      // A store rebuilt from the run files has the same held-out metrics and hit.
      const again = join(out, 'rebuilt.sqlite');
      right(rebuildStore(again, [fromFile]));
      const rebuilt = right(openStore(again, { readonly: true }));
      const r = right(rebuilt.toRunRecords())[0]!;
      rebuilt.close();
      assert.deepEqual(r.reached, fromStore.reached);
      assert.deepEqual(r.epochs.map((e) => e.validation), fromStore.epochs.map((e) => e.validation));
    } finally {
      store.close();
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('a v2 store gains the columns and the table; its epochs read back as they were', () => {
    open().close();
    // Undo v3 (and what came after it) by hand: what a store written before targets existed holds.
    const db = new Database(storePath(dir()));
    db.exec(`DROP TABLE targets; ALTER TABLE epochs DROP COLUMN validation_loss; ALTER TABLE epochs DROP COLUMN validation_accuracy;
             ALTER TABLE runs DROP COLUMN progress_epoch; ALTER TABLE runs DROP COLUMN progress_step;
             UPDATE meta SET value = '2' WHERE key = 'schema_version';`);
    db.close();
    const store = open();
    for (const e of [started(s), held(1), reached(1)]) right(store.writeEvent(e));
    const [record] = right(store.toRunRecords());
    assert.deepEqual(record!.epochs[0]!.validation, held(1).validation);
    assert.equal(record!.reached?.epoch, 1);
    store.close();
  });
});
