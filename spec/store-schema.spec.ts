import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runId as specId } from '../lib/config/spec.js';
import { SCHEMA_VERSION, openStore, storePath, type Store } from '../lib/store/index.js';
import { right, left, spec, started, useStoreDir } from './support/store.js';

/** Schema v1 as released, written out here independently of lib/store/schema.ts. */
const V1 = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE runs (id TEXT PRIMARY KEY, label TEXT NOT NULL, spec TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed', 'interrupted')),
    error TEXT, backend TEXT, parameters INTEGER, steps INTEGER, epochs INTEGER NOT NULL, train_ms REAL,
    eval_ms REAL, optbench_version TEXT, tfjs_version TEXT, node_version TEXT, host TEXT, pid INTEGER,
    created_at TEXT NOT NULL, started_at TEXT, updated_at TEXT NOT NULL, finished_at TEXT);
  CREATE TABLE epochs (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, epoch INTEGER NOT NULL,
    train_loss REAL, train_accuracy REAL, test_loss REAL, test_accuracy REAL, train_ms REAL NOT NULL,
    eval_ms REAL NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (run_id, epoch)) WITHOUT ROWID;
  CREATE TABLE artifacts (id INTEGER PRIMARY KEY, run_id TEXT REFERENCES runs(id) ON DELETE SET NULL,
    kind TEXT NOT NULL, path TEXT NOT NULL UNIQUE, bytes INTEGER NOT NULL, sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL);
  INSERT INTO meta VALUES ('schema_version', '1');`;

/** What schema v2 added to v1 as released (run ownership and final results), also written out here. */
const V1_TO_V2 = `
  ALTER TABLE runs ADD COLUMN owner_token TEXT;
  ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
  ALTER TABLE runs ADD COLUMN owner_host TEXT;
  ALTER TABLE runs ADD COLUMN owner_started TEXT;
  ALTER TABLE runs ADD COLUMN heartbeat_at INTEGER;
  CREATE INDEX runs_status ON runs (status);
  CREATE TABLE results (run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE, test_loss REAL,
    test_accuracy REAL, confusion TEXT, vae TEXT, created_at TEXT NOT NULL);
  UPDATE meta SET value = '2' WHERE key = 'schema_version';`;

/** What schema v3 added to v2 as released (held-out metrics per epoch, when a run reached its target). */
const V2_TO_V3 = `
  ALTER TABLE epochs ADD COLUMN validation_loss REAL;
  ALTER TABLE epochs ADD COLUMN validation_accuracy REAL;
  CREATE TABLE targets (run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    metric TEXT NOT NULL CHECK (metric IN ('accuracy', 'loss')), goal REAL NOT NULL, value REAL NOT NULL,
    epoch INTEGER NOT NULL, step INTEGER NOT NULL, seconds REAL NOT NULL, created_at TEXT NOT NULL);
  UPDATE meta SET value = '3' WHERE key = 'schema_version';`;

const runColumns = (db: Database.Database): string[] => (db.prepare('PRAGMA table_info(runs)').all() as { name: string }[]).map((c) => c.name);

describe('store: schema', () => {
  const { dir, open } = useStoreDir();

  it('creates a WAL store at the current schema version with a busy timeout', () => {
    open().close();
    const db = new Database(storePath(dir()), { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    const v = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string };
    assert.equal(Number(v.value), SCHEMA_VERSION);
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[])
      .map((r) => r.name)
      .sort();
    assert.deepEqual(tables, ['artifacts', 'epochs', 'meta', 'results', 'runs', 'targets']);
    db.close();
    const s = open({ busyTimeoutMs: 2500 });
    s.close();
  });

  it('migrates a v1 store, keeping its runs and epochs', () => {
    const s = spec('adam');
    const id = specId(s);
    const db = new Database(storePath(dir()));
    db.exec(V1);
    db.prepare(
      `INSERT INTO runs (id, label, spec, status, backend, epochs, created_at, updated_at)
       VALUES (?, 'fcnn/adam/s0', ?, 'running', 'cpu', 3, '2025-01-01', '2025-01-01')`,
    ).run(id, JSON.stringify(s));
    db.prepare(
      `INSERT INTO epochs (run_id, epoch, train_loss, train_accuracy, test_loss, test_accuracy, train_ms, eval_ms, created_at)
       VALUES (?, 1, 0.75, 0.5, 0.8, 0.45, 10, 2, '2025-01-01')`,
    ).run(id);
    db.close();

    const store = open();
    const runs = right(store.listRuns());
    assert.equal(runs.length, 1);
    // A v1 run has no owner: it was left running by a process that is gone.
    assert.equal(runs[0]!.status, 'interrupted');
    assert.deepEqual(right(store.runEpochs(id)), [
      { epoch: 1, train: { loss: 0.75, accuracy: 0.5 }, test: { loss: 0.8, accuracy: 0.45 }, trainMs: 10, evalMs: 2 },
    ]);
    assert.equal(right(store.completedEpochs(id)), 1);
    assert.equal(right(store.claimRun(id, s)), 'claimed');
    store.close();
    const raw = new Database(storePath(dir()), { readonly: true });
    const v = raw.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string };
    assert.equal(Number(v.value), SCHEMA_VERSION);
    raw.close();
  });

  it('migrates a v3 store, keeping its runs, epochs and results; a read-only open (runs, serve) reads it as it is', () => {
    const done = spec('adam');
    const live = spec('sgd');
    const file = storePath(dir());
    // A v3 store that an older optbench is writing now (WAL mode, its last epoch still in the -wal file).
    const older = new Database(file);
    older.pragma('journal_mode = WAL');
    older.exec(V1 + V1_TO_V2 + V2_TO_V3);
    const run = older.prepare(
      `INSERT INTO runs (id, label, spec, status, backend, steps, epochs, created_at, updated_at, owner_token, owner_pid, owner_host, heartbeat_at)
       VALUES (?, ?, ?, ?, 'cpu', 300, 3, '2025-01-01', '2025-01-01', ?, ?, ?, ?)`,
    );
    run.run(specId(done), 'fcnn/adam/s0', JSON.stringify(done), 'done', null, null, null, null);
    // Its holder's lease lapsed two minutes ago: it lists as interrupted, and can be taken.
    run.run(specId(live), 'fcnn/sgd/s0', JSON.stringify(live), 'running', 'older', process.pid, hostname(), Date.now() - 120_000);
    const ep = older.prepare(
      `INSERT INTO epochs (run_id, epoch, train_loss, train_accuracy, test_loss, test_accuracy, train_ms, eval_ms, created_at)
       VALUES (?, ?, 0.75, 0.5, 0.8, 0.45, 10, 2, '2025-01-01')`,
    );
    for (const k of [1, 2, 3]) ep.run(specId(done), k);
    older.prepare(`INSERT INTO results (run_id, test_loss, test_accuracy, created_at) VALUES (?, 0.5, 0.875, '2025-01-01')`).run(specId(done));
    ep.run(specId(live), 1);
    const summary = (st: Store) => right(st.listRuns()).map((r) => [r.label, r.status, r.epochsDone, r.final?.testAccuracy ?? null, r.progress]);
    const expected = [
      ['fcnn/adam/s0', 'done', 3, 0.875, null],
      ['fcnn/sgd/s0', 'interrupted', 1, null, null],
    ];

    const ro = right(openStore(file, { readonly: true }));
    assert.deepEqual(summary(ro), expected, 'read through an upgraded copy: no step recorded, nothing missing');
    ro.close();
    assert.equal(older.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), '3', 'a read-only open leaves the file at v3');
    assert.ok(!runColumns(older).includes('progress_step'));

    older.close();
    const store = open({ progressEveryMs: 0 });
    assert.deepEqual(summary(store), expected);
    assert.equal(right(store.completedEpochs(specId(done))), 3);
    // The migrated store records the step of a run it trains.
    assert.equal(right(store.claimRun(specId(live), live)), 'claimed');
    right(store.writeEvent(started(live, 1)));
    right(store.writeEvent({ type: 'BatchEnded', runId: specId(live), epoch: 2, step: 7, steps: 300, loss: 1, elapsedMs: 1 }));
    assert.deepEqual(right(store.listRuns()).find((r) => r.runId === specId(live))!.progress, { epoch: 2, step: 7 });
    store.close();
    const raw = new Database(file, { readonly: true });
    assert.equal(Number(raw.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get()), SCHEMA_VERSION);
    assert.ok(runColumns(raw).includes('progress_epoch') && runColumns(raw).includes('progress_step'));
    raw.close();
  });

  it('refuses a store from a newer optbench with a StoreError that says to upgrade', () => {
    open().close();
    const db = new Database(storePath(dir()));
    db.prepare(`UPDATE meta SET value = ? WHERE key = 'schema_version'`).run(String(SCHEMA_VERSION + 1));
    db.close();
    const e = left(openStore(storePath(dir())));
    assert.equal(e._tag, 'StoreError');
    assert.match(e.message, /newer optbench/);
    assert.match(e.message, /[Uu]pgrade optbench/);
    assert.ok(e.message.includes(storePath(dir())));
  });

  it('waits for a lock up to its busy timeout, then fails with a StoreError that says what to do', () => {
    const store = open({ busyTimeoutMs: 300 });
    const other = new Database(storePath(dir()));
    other.exec('BEGIN IMMEDIATE');
    const t0 = Date.now();
    const e = left(store.claimRun(specId(spec('adam')), spec('adam')));
    const waited = Date.now() - t0;
    other.exec('ROLLBACK');
    other.close();
    assert.equal(e._tag, 'StoreError');
    assert.match(e.message, /locked by another process/);
    assert.ok(waited >= 250, `waited ${waited} ms`);
    assert.equal(right(store.claimRun(specId(spec('adam')), spec('adam'))), 'claimed');
    store.close();
  });

  it('refuses a file that is not SQLite, naming the file and what to do', () => {
    const file = storePath(dir());
    writeFileSync(file, 'this is a CSV file, not a database\n'.repeat(50));
    const before = readFileSync(file);
    const e = left(openStore(file));
    assert.equal(e._tag, 'StoreError');
    assert.ok(e.message.includes(file));
    assert.match(e.message, /not an SQLite database/);
    assert.match(e.message, /--out/);
    assert.deepEqual(readFileSync(file), before, 'the foreign file is left untouched');
  });

  it('refuses an SQLite database that is not an optbench store', () => {
    const db = new Database(storePath(dir()));
    db.exec('CREATE TABLE customers (id INTEGER)');
    db.close();
    const e = left(openStore(storePath(dir())));
    assert.equal(e._tag, 'StoreError');
    assert.match(e.message, /not an optbench store/);
  });

  it('refuses to create a store when one must exist', () => {
    const e = left(openStore(storePath(join(dir(), 'nowhere')), { mustExist: true }));
    assert.equal(e._tag, 'StoreError');
    assert.match(e.message, /No optbench store/);
  });
});
