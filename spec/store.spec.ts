import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { catchError, lastValueFrom, of, tap, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { runId as specId, type RunSpec } from '../lib/config/spec.js';
import { diverged, type OptbenchError } from '../lib/errors.js';
import type { EpochEnded, RunEnded, RunEvent, RunFailed, RunStarted } from '../lib/train/events.js';
import {
  EXPORT_CSV_COLUMNS,
  SCHEMA_VERSION,
  checkpointPath,
  deleteCheckpoint,
  nodeCheckpointIo,
  openStore,
  persist,
  readCheckpoint,
  storePath,
  writeCheckpoint,
  type Checkpoint,
  type Store,
  type StoreOptions,
} from '../lib/store/index.js';
import { processStart } from '../lib/store/owner.js';

const right = <A>(r: E.Either<OptbenchError, A>): A => {
  if (E.isLeft(r)) assert.fail(`expected Right, got ${r.left._tag}: ${r.left.message}`);
  return r.right;
};
const left = <A>(r: E.Either<OptbenchError, A>): OptbenchError => {
  if (E.isRight(r)) assert.fail('expected Left, got Right');
  return r.left;
};

const spec = (optimizer: string, over: Record<string, unknown> = {}): RunSpec =>
  ({
    dataset: 'fashion-mnist',
    model: 'fcnn',
    optimizer: { name: optimizer, preset: 'keras', overrides: {} },
    seed: 0,
    epochs: 3,
    batchSize: 200,
    backend: 'cpu',
    ...over,
  }) as RunSpec;

const started = (s: RunSpec, fromEpoch = 0): RunStarted => ({
  type: 'RunStarted',
  runId: specId(s),
  spec: s,
  index: 1,
  total: 1,
  backend: s.backend,
  parameters: 101_770,
  steps: 300,
  fromEpoch,
  startedAt: '2026-01-01T00:00:00.000Z',
});

/** Metrics that are distinct per run and epoch and not round in binary, so that any rounding shows. */
const epoch = (s: RunSpec, k: number): EpochEnded => ({
  type: 'EpochEnded',
  runId: specId(s),
  epoch: k,
  epochs: s.epochs,
  train: { loss: 1 / (k + 2) + Math.PI * 1e-9, accuracy: 0.5 + k / 7 / 10 },
  test: { loss: 1 / (k + 3) + Math.E * 1e-10, accuracy: 0.4 + k / 9 / 10 },
  evaluation: { split: 'test', batchSize: 200 },
  trainMs: 1000 + k / 3,
  evalMs: 100 + k / 11,
});

const ended = (s: RunSpec, vae: RunEnded['vae'] = null): RunEnded => ({
  type: 'RunEnded',
  runId: specId(s),
  spec: s,
  final: { testLoss: 0.3125 + 1e-12, testAccuracy: 0.8876 },
  confusion: [
    [5, 1],
    [2, 7],
  ],
  vae,
  trainMs: 3001,
  evalMs: 301,
});

const fullRun = (s: RunSpec): RunEvent[] => [
  started(s),
  { type: 'BatchEnded', runId: specId(s), epoch: 1, step: 10, steps: 300, loss: 0.9, elapsedMs: 5 },
  ...Array.from({ length: s.epochs }, (_, i) => epoch(s, i + 1)),
  ended(s),
];

let dir: string;
const open = (opts: StoreOptions = {}): Store => right(openStore(storePath(dir), opts));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'optbench-store-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

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

describe('store: schema', () => {
  it('creates a WAL store at the current schema version with a busy timeout', () => {
    open().close();
    const db = new Database(storePath(dir), { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    const v = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string };
    assert.equal(Number(v.value), SCHEMA_VERSION);
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[])
      .map((r) => r.name)
      .sort();
    assert.deepEqual(tables, ['artifacts', 'epochs', 'meta', 'results', 'runs']);
    db.close();
    const s = open({ busyTimeoutMs: 2500 });
    s.close();
  });

  it('migrates a v1 store, keeping its runs and epochs', () => {
    const s = spec('adam');
    const id = specId(s);
    const db = new Database(storePath(dir));
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
    const raw = new Database(storePath(dir), { readonly: true });
    const v = raw.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string };
    assert.equal(Number(v.value), SCHEMA_VERSION);
    raw.close();
  });

  it('refuses a store from a newer optbench with a StoreError that says to upgrade', () => {
    open().close();
    const db = new Database(storePath(dir));
    db.prepare(`UPDATE meta SET value = ? WHERE key = 'schema_version'`).run(String(SCHEMA_VERSION + 1));
    db.close();
    const e = left(openStore(storePath(dir)));
    assert.equal(e._tag, 'StoreError');
    assert.match(e.message, /newer optbench/);
    assert.match(e.message, /[Uu]pgrade optbench/);
    assert.ok(e.message.includes(storePath(dir)));
  });

  it('waits for a lock up to its busy timeout, then fails with a StoreError that says what to do', () => {
    const store = open({ busyTimeoutMs: 300 });
    const other = new Database(storePath(dir));
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
    const file = storePath(dir);
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
    const db = new Database(storePath(dir));
    db.exec('CREATE TABLE customers (id INTEGER)');
    db.close();
    const e = left(openStore(storePath(dir)));
    assert.equal(e._tag, 'StoreError');
    assert.match(e.message, /not an optbench store/);
  });

  it('refuses to create a store when one must exist', () => {
    const e = left(openStore(storePath(join(dir, 'nowhere')), { mustExist: true }));
    assert.equal(e._tag, 'StoreError');
    assert.match(e.message, /No optbench store/);
  });
});

describe('store: persist', () => {
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
    const size = statSync(storePath(dir)).size;
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
    assert.ok(error!.message.includes(storePath(dir)));
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

describe('store: run ownership', () => {
  it('two stores on one file: exactly one claims a run; it is free again once released', () => {
    const a = open();
    const b = open();
    const s = spec('adam');
    const id = specId(s);
    const claims = [right(a.claimRun(id, s)), right(b.claimRun(id, s))];
    assert.deepEqual(claims, ['claimed', 'busy']);
    assert.equal(right(a.claimRun(id, s)), 'claimed', 'claiming again is harmless');
    assert.equal(left(b.writeEvent(started(s)))._tag, 'StoreError', 'the other store cannot start it');
    right(a.releaseRun(id));
    assert.equal(right(b.claimRun(id, s)), 'claimed');
    assert.equal(right(a.claimRun(id, s)), 'busy');
    a.close();
    b.close();
  });

  it('a finished run is reported done and not claimed', async () => {
    const a = open();
    const s = spec('adam');
    await lastValueFrom(of(...fullRun(s)).pipe(persist(a), toArray()));
    const b = open();
    assert.equal(right(b.claimRun(specId(s), s)), 'done');
    a.close();
    b.close();
  });

  it('a lease without heartbeat expires: the run is marked interrupted and claimable, the old owner is refused', () => {
    let clock = 1_700_000_000_000;
    const now = () => clock;
    const a = open({ now, leaseMs: 60_000 });
    const b = open({ now, leaseMs: 60_000 });
    const s = spec('nadam');
    const id = specId(s);
    assert.equal(right(a.claimRun(id, s)), 'claimed');
    right(a.writeEvent(started(s)));
    right(a.writeEvent(epoch(s, 1)));
    clock += 59_000;
    assert.equal(right(b.claimRun(id, s)), 'busy');
    // persist renews the lease from BatchEnded events (every leaseMs / 4 at most).
    right(a.writeEvent({ type: 'BatchEnded', runId: id, epoch: 2, step: 5, steps: 300, loss: 1, elapsedMs: 1 }));
    const raw0 = new Database(storePath(dir), { readonly: true });
    assert.equal((raw0.prepare('SELECT heartbeat_at AS h FROM runs').get() as { h: number }).h, clock);
    raw0.close();
    clock += 1_000;
    assert.equal(right(a.heartbeat(id)), true);
    clock += 59_000;
    assert.equal(right(b.claimRun(id, s)), 'busy', 'the heartbeat renewed the lease');
    assert.equal(right(b.listRuns())[0]!.status, 'running');
    clock += 61_000;
    assert.equal(right(b.listRuns())[0]!.status, 'interrupted', 'listed as interrupted once the lease is gone');
    assert.equal(right(b.claimRun(id, s)), 'claimed');
    const raw = new Database(storePath(dir), { readonly: true });
    assert.equal((raw.prepare('SELECT status FROM runs').get() as { status: string }).status, 'interrupted');
    raw.close();
    const e = left(a.writeEvent(epoch(s, 2)));
    assert.equal(e._tag, 'StoreError');
    assert.match(e.message, /another optbench process|no longer holds/);
    assert.equal(right(a.heartbeat(id)), false);
    assert.equal(right(b.completedEpochs(id)), 1, 'the refused epoch was not written');
    a.close();
    b.close();
  });

  it('on this host the owner process decides: a dead pid frees the run, a live one keeps it past its lease', () => {
    let clock = 1_700_000_000_000;
    const now = () => clock;
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const s1 = spec('sgd');
    const s2 = spec('adamax');
    const ghost = open({ now, owner: { pid: dead, host: hostname(), started: null } });
    assert.equal(right(ghost.claimRun(specId(s1), s1)), 'claimed');
    const parent = open({ now, owner: { pid: process.ppid, host: hostname(), started: processStart(process.ppid) } });
    assert.equal(right(parent.claimRun(specId(s2), s2)), 'claimed');
    clock += 3_600_000;
    const me = open({ now });
    assert.equal(right(me.claimRun(specId(s1), s1)), 'claimed', 'its owner process is gone');
    assert.equal(right(me.claimRun(specId(s2), s2)), 'busy', 'its owner process is alive, however long its step');
    for (const s of [ghost, parent, me]) s.close();
  });

  it('two processes claiming the same run: exactly one wins', async function () {
    this.timeout(60_000);
    const s = spec('adam');
    const id = specId(s);
    open().close();
    const code = `
      const { openStore } = await import(${JSON.stringify(new URL('../lib/store/index.ts', import.meta.url).pathname)});
      const s = JSON.parse(process.argv[1]);
      const store = openStore(process.argv[2]);
      if (store._tag === 'Left') { console.log('error ' + store.left.message); process.exit(1); }
      const r = store.right.claimRun(process.argv[3], s);
      console.log(r._tag === 'Right' ? r.right : 'error ' + r.left.message);
      // Hold the claim until the parent has seen both answers; exit without releasing, as a crash would.
      process.stdin.on('end', () => process.exit(0));
      process.stdin.resume();`;
    const child = () => {
      const p = spawn(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', code, JSON.stringify(s), storePath(dir), id],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      const answer = new Promise<string>((resolve) => {
        let out = '';
        p.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.trim());
        });
        p.on('exit', () => resolve(out.trim()));
      });
      const exited = new Promise<void>((resolve) => p.on('exit', () => resolve()));
      return { p, answer, exited };
    };
    const kids = [child(), child()];
    const answers = (await Promise.all(kids.map((k) => k.answer))).sort();
    assert.deepEqual(answers, ['busy', 'claimed']);
    for (const k of kids) k.p.stdin.end();
    await Promise.all(kids.map((k) => k.exited));
    const me = open();
    assert.equal(right(me.claimRun(id, s)), 'claimed', 'the winner exited without releasing: its claim died with it');
    me.close();
  });

  it('markInterrupted and close leave interrupted runs behind, resumable', () => {
    const a = open();
    const s = spec('adadelta');
    const t = spec('adagrad');
    right(a.claimRun(specId(s), s));
    right(a.writeEvent(started(s)));
    right(a.writeEvent(epoch(s, 1)));
    right(a.markInterrupted(specId(s)));
    right(a.claimRun(specId(t), t));
    right(a.writeEvent(started(t)));
    a.close();
    const b = open();
    const status = new Map(right(b.listRuns()).map((r) => [r.runId, [r.status, r.owner]]));
    assert.deepEqual(status.get(specId(s)), ['interrupted', null]);
    assert.deepEqual(status.get(specId(t)), ['interrupted', null]);
    assert.equal(right(b.claimRun(specId(s), s)), 'claimed');
    b.close();
  });
});

/** A small RFC 4180 reader, enough for the export's quoting. */
const parseCsv = (text: string): string[][] => {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  return rows;
};

describe('store: export and artifacts', () => {
  it('exports one CSV row per run and epoch, and full JSON records', async () => {
    const store = open();
    const a = spec('adam', { optimizer: { name: 'adam', preset: 'keras', overrides: { lr: 0.003, beta1: 0.8 } } });
    const b = spec('sgd', { epochs: 2 });
    const c = spec('nadam');
    const failC: RunFailed = {
      type: 'RunFailed',
      runId: specId(c),
      spec: c,
      error: { _tag: 'BackendUnavailable', backend: 'tensorflow', message: 'Backend "tensorflow", not installed, "x"' },
      epochsDone: 0,
    };
    await lastValueFrom(of(...fullRun(a), ...fullRun(b), failC).pipe(persist(store), toArray()));

    const rows = parseCsv(right(store.exportRuns('csv')));
    assert.deepEqual(rows[0], [...EXPORT_CSV_COLUMNS]);
    const body = rows.slice(1);
    assert.equal(body.length, 3 + 2 + 1);
    const col = (r: string[], name: (typeof EXPORT_CSV_COLUMNS)[number]) => r[EXPORT_CSV_COLUMNS.indexOf(name)]!;
    for (const s of [a, b]) {
      const mine = body.filter((r) => col(r, 'run_id') === specId(s));
      assert.equal(mine.length, s.epochs);
      mine.forEach((r, i) => {
        const e = epoch(s, i + 1);
        assert.equal(Number(col(r, 'epoch')), i + 1);
        assert.equal(Number(col(r, 'train_loss')), e.train.loss);
        assert.equal(Number(col(r, 'test_accuracy')), e.test!.accuracy);
        assert.equal(Number(col(r, 'eval_ms')), e.evalMs);
        assert.equal(col(r, 'status'), 'done');
        assert.equal(col(r, 'optimizer'), s.optimizer.name);
        assert.deepEqual(JSON.parse(col(r, 'overrides')), s.optimizer.overrides);
        assert.equal(Number(col(r, 'final_test_loss')), ended(s).final!.testLoss);
      });
    }
    const [failed] = body.filter((r) => col(r, 'run_id') === specId(c));
    assert.equal(col(failed!, 'status'), 'failed');
    assert.equal(col(failed!, 'epoch'), '');
    assert.equal(col(failed!, 'error'), failC.error.message, 'quotes and commas survive');

    const json = JSON.parse(right(store.exportRuns('json'))) as {
      runId: string;
      status: string;
      storeStatus: string;
      epochs: { epoch: number; train: { loss: number } }[];
      final: unknown;
      versions: { node: string };
    }[];
    assert.equal(json.length, 3);
    const ja = json.find((r) => r.runId === specId(a))!;
    assert.deepEqual(
      ja.epochs.map((e) => e.train.loss),
      [1, 2, 3].map((k) => epoch(a, k).train.loss),
    );
    assert.deepEqual(ja.final, ended(a).final);
    assert.equal(ja.versions.node, process.versions.node);
    assert.equal(json.find((r) => r.runId === specId(c))!.storeStatus, 'failed');
    const only = JSON.parse(right(store.exportRuns('json', [specId(b)]))) as unknown[];
    assert.equal(only.length, 1);
    store.close();
  });

  it('records artifacts with their size and SHA-256, replacing a rewritten file', () => {
    const store = open();
    const file = join(dir, 'curves.svg');
    writeFileSync(file, '<svg>one</svg>');
    const first = right(store.recordArtifact({ runId: null, kind: 'figure', path: file }));
    assert.equal(first.bytes, 14);
    assert.equal(first.sha256, createHash('sha256').update('<svg>one</svg>').digest('hex'));
    writeFileSync(file, '<svg>second</svg>');
    right(store.recordArtifact({ runId: null, kind: 'figure', path: file }));
    const all = right(store.artifacts());
    assert.equal(all.length, 1);
    assert.equal(all[0]!.bytes, 17);
    const missing = left(store.recordArtifact({ runId: null, kind: 'figure', path: join(dir, 'none.svg') }));
    assert.equal(missing._tag, 'IoError');
    store.close();
  });
});

describe('store: checkpoints', () => {
  /** Random bit patterns, so NaN payloads, -0, infinities and subnormals all occur. */
  const randomArray = (n: number, seed: number): Float32Array => {
    const bits = new Uint32Array(n);
    let x = seed >>> 0 || 1;
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      bits[i] = x >>> 0;
    }
    bits[0] = 0x80000000; // -0
    if (n > 1) bits[1] = 0x7fc00123; // a NaN with a payload
    return new Float32Array(bits.buffer);
  };
  const state = (epochNo: number): Omit<Checkpoint, 'runId'> => ({
    epoch: epochNo,
    weights: {
      'dense_Dense1/kernel': { shape: [7, 5], values: randomArray(35, 1 + epochNo) },
      'dense_Dense1/bias': { shape: [5], values: randomArray(5, 2 + epochNo) },
      scalar: { shape: [], values: new Float32Array([1.5]) },
    },
    optimizer: {
      iteration: 300 * epochNo,
      weights: { 'dense_Dense1/kernel/m': { shape: [7, 5], values: randomArray(35, 3 + epochNo) } },
    },
    rng: { state: [123456789, 362436069, 521288629, 88675123], epoch: epochNo },
  });
  const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
  const sameBits = (got: Checkpoint, want: Omit<Checkpoint, 'runId'>) => {
    assert.equal(got.epoch, want.epoch);
    assert.equal(got.optimizer.iteration, want.optimizer.iteration);
    assert.deepEqual(got.rng, want.rng);
    for (const [g, w] of [
      [got.weights, want.weights],
      [got.optimizer.weights, want.optimizer.weights],
    ] as const) {
      assert.deepEqual(Object.keys(g), Object.keys(w));
      for (const k of Object.keys(w)) {
        assert.deepEqual(g[k]!.shape, w[k]!.shape);
        assert.deepEqual(bits(g[k]!.values), bits(w[k]!.values));
      }
    }
  };
  const id = 'a1b2c3d4e5f60718';

  it('round-trips weights, optimizer state and RNG state bit for bit', () => {
    const ck = join(dir, 'checkpoints');
    assert.equal(right(readCheckpoint(ck, id)), null, 'no checkpoint yet');
    const want = state(3);
    assert.equal(right(writeCheckpoint(ck, id, want)), checkpointPath(ck, id));
    const got = right(readCheckpoint(ck, id))!;
    assert.equal(got.runId, id);
    sameBits(got, want);
    const next = state(4);
    right(writeCheckpoint(ck, id, next));
    sameBits(right(readCheckpoint(ck, id))!, next);
    assert.deepEqual(readdirSync(ck), [`${id}.ckpt`]);
    right(deleteCheckpoint(ck, id));
    assert.equal(right(readCheckpoint(ck, id)), null);
    right(deleteCheckpoint(ck, id));
  });

  it('a truncated, damaged or foreign checkpoint is a typed error, never a crash', () => {
    const ck = join(dir, 'checkpoints');
    right(writeCheckpoint(ck, id, state(2)));
    const file = checkpointPath(ck, id);
    const whole = readFileSync(file);
    const cuts = [0, 5, 15, 40, whole.length >> 1, whole.length - 33, whole.length - 1];
    for (const n of cuts) {
      writeFileSync(file, whole.subarray(0, n));
      const e = left(readCheckpoint(ck, id));
      assert.equal(e._tag, 'StoreError', `cut at ${n}`);
      assert.ok(e.message.includes(file));
      assert.match(e.message, /restarts from its first epoch/);
    }
    for (const at of [3, 9, 20, whole.length >> 1, whole.length - 1]) {
      const flipped = Buffer.from(whole);
      flipped[at]! ^= 0x10;
      writeFileSync(file, flipped);
      assert.equal(left(readCheckpoint(ck, id))._tag, 'StoreError', `bit flip at ${at}`);
    }
    writeFileSync(file, Buffer.concat([whole, Buffer.from([0])]));
    assert.equal(left(readCheckpoint(ck, id))._tag, 'StoreError');
    writeFileSync(file, whole);
    writeFileSync(checkpointPath(ck, 'other'), whole);
    assert.match(left(readCheckpoint(ck, 'other')).message, /belongs to run/);
  });

  it('a failed write leaves the previous checkpoint intact and no partial file', () => {
    const ck = join(dir, 'checkpoints');
    const old = state(1);
    right(writeCheckpoint(ck, id, old));
    let calls = 0;
    const failing = {
      ...nodeCheckpointIo,
      writeSync: (fd: number, buf: Uint8Array) => {
        if (++calls === 3) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return nodeCheckpointIo.writeSync(fd, buf);
      },
    };
    const e = left(writeCheckpoint(ck, id, state(2), failing));
    assert.equal(e._tag, 'IoError');
    assert.equal((e as { code?: string }).code, 'ENOSPC');
    assert.match(e.message, /disk is full/);
    assert.deepEqual(readdirSync(ck), [`${id}.ckpt`], 'the temporary file is removed');
    sameBits(right(readCheckpoint(ck, id))!, old);
  });

  it('refuses state that does not describe itself', () => {
    const ck = join(dir, 'checkpoints');
    const bad = { ...state(1), weights: { w: { shape: [2, 3], values: new Float32Array(5) } } };
    assert.match(left(writeCheckpoint(ck, id, bad)).message, /shape \[2, 3\] but 5 values/);
    assert.match(left(writeCheckpoint(ck, '../escape', state(1))).message, /cannot name a file/);
  });
});
