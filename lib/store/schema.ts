import type Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { storeError, type OptbenchError } from '../errors.js';
import { fromSqlite } from './sqlite-error.js';

/**
 * Ordered migrations: entry i takes a store from schema version i to i + 1. A released migration is never
 * edited, only followed by a new one, so that every older store can be brought up to date.
 */
const MIGRATIONS: readonly string[] = [
  // v1: runs keyed by the hash of their spec, every epoch's metrics, the files written for them.
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE runs (
     id TEXT PRIMARY KEY,
     label TEXT NOT NULL,
     spec TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed', 'interrupted')),
     error TEXT,
     backend TEXT,
     parameters INTEGER,
     steps INTEGER,
     epochs INTEGER NOT NULL,
     train_ms REAL,
     eval_ms REAL,
     optbench_version TEXT,
     tfjs_version TEXT,
     node_version TEXT,
     host TEXT,
     pid INTEGER,
     created_at TEXT NOT NULL,
     started_at TEXT,
     updated_at TEXT NOT NULL,
     finished_at TEXT
   );
   CREATE TABLE epochs (
     run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     epoch INTEGER NOT NULL,
     train_loss REAL,
     train_accuracy REAL,
     test_loss REAL,
     test_accuracy REAL,
     train_ms REAL NOT NULL,
     eval_ms REAL NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (run_id, epoch)
   ) WITHOUT ROWID;
   CREATE TABLE artifacts (
     id INTEGER PRIMARY KEY,
     run_id TEXT REFERENCES runs(id) ON DELETE SET NULL,
     kind TEXT NOT NULL,
     path TEXT NOT NULL UNIQUE,
     bytes INTEGER NOT NULL,
     sha256 TEXT NOT NULL,
     created_at TEXT NOT NULL
   );`,
  // v2: run ownership (a lease renewed by heartbeats, so that two processes never train one run) and
  // final results (test metrics, confusion matrix, VAE decodings) so that a report never retrains.
  `ALTER TABLE runs ADD COLUMN owner_token TEXT;
   ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
   ALTER TABLE runs ADD COLUMN owner_host TEXT;
   ALTER TABLE runs ADD COLUMN owner_started TEXT;
   ALTER TABLE runs ADD COLUMN heartbeat_at INTEGER;
   CREATE INDEX runs_status ON runs (status);
   CREATE TABLE results (
     run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
     test_loss REAL,
     test_accuracy REAL,
     confusion TEXT,
     vae TEXT,
     created_at TEXT NOT NULL
   );`,
  // v3: the held-out images' metrics of each epoch (measured beside the test set when a run has a target),
  // and when a run first reached its target (reachTarget): its time to target is a record, not a re-reading.
  `ALTER TABLE epochs ADD COLUMN validation_loss REAL;
   ALTER TABLE epochs ADD COLUMN validation_accuracy REAL;
   CREATE TABLE targets (
     run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
     metric TEXT NOT NULL CHECK (metric IN ('accuracy', 'loss')),
     goal REAL NOT NULL,
     value REAL NOT NULL,
     epoch INTEGER NOT NULL,
     step INTEGER NOT NULL,
     seconds REAL NOT NULL,
     created_at TEXT NOT NULL
   );`,
  // v4: where a run is inside its epoch (the epoch under way and its last step), written with the heartbeat
  // while it trains and cleared when the epoch or the run ends, so that a reader (optbench serve) can show
  // the step of a run trained in another process. NULL when unknown, as in every row of an older store.
  `ALTER TABLE runs ADD COLUMN progress_epoch INTEGER;
   ALTER TABLE runs ADD COLUMN progress_step INTEGER;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

const tables = (db: Database.Database): string[] =>
  (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as {
    name: string;
  }[]).map((r) => r.name);

/** The schema version of an open database: 0 when it is empty, null when it is some other SQLite database. */
export const schemaVersion = (db: Database.Database): number | null => {
  const names = tables(db);
  if (names.length === 0) return 0;
  if (!names.includes('meta')) return null;
  const row = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string } | undefined;
  const v = row === undefined ? NaN : Number(row.value);
  return Number.isInteger(v) && v > 0 ? v : null;
};

export const notOurs = (file: string, advice = 'Move it away or choose another output directory with --out DIR.') =>
  storeError({
    file,
    message: `${file} is an SQLite database but not an optbench store (it has no optbench schema version). ${advice}`,
  });

export const tooNew = (file: string, v: number) =>
  storeError({
    file,
    message:
      `${file} was written by a newer optbench (store schema v${v}; this optbench reads up to v${SCHEMA_VERSION}). ` +
      `Upgrade optbench (npm install optbench@latest) to read it, or choose another output directory with --out DIR.`,
  });

/**
 * Brings the store up to SCHEMA_VERSION in one IMMEDIATE transaction, re-reading the version inside it so that
 * two processes opening one old store migrate it once. Refuses stores from a newer optbench and foreign databases.
 */
export const migrate = (db: Database.Database, file: string): E.Either<OptbenchError, number> => {
  try {
    const check = (v: number | null): E.Either<OptbenchError, number> =>
      v === null ? E.left(notOurs(file)) : v > SCHEMA_VERSION ? E.left(tooNew(file, v)) : E.right(v);
    const before = check(schemaVersion(db));
    if (E.isLeft(before) || before.right === SCHEMA_VERSION) return before;
    return db
      .transaction((): E.Either<OptbenchError, number> => {
        const current = check(schemaVersion(db));
        if (E.isLeft(current)) return current;
        for (let v = current.right; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
        db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)`).run(String(SCHEMA_VERSION));
        return E.right(SCHEMA_VERSION);
      })
      .immediate();
  } catch (u) {
    return E.left(fromSqlite(file, 'opening the store', u));
  }
};
