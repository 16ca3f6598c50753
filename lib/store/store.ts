import Database from 'better-sqlite3';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { RunSpec } from '../config/spec.js';
import { printable, storeError, toOptbenchError } from '../errors.js';
import type { EpochRecord, RunRecord } from '../train/record.js';
import { storeContext, type R } from './context.js';
import type { ExportedRun, ExportFormat } from './export.js';
import { leases } from './leases.js';
import { checkVersion, createStore, emptyFile, memoryCopy, missing, openReadonly } from './open-file.js';
import type { Owner } from './owner.js';
import { reads } from './reads.js';
import { migrate, SCHEMA_VERSION } from './schema.js';
import { fromSqlite } from './sqlite-error.js';
import type { ArtifactInput, ArtifactRow, Claim, RunRow } from './types.js';
import { writes, type StoredEvent } from './writes.js';

export const STORE_FILE = 'optbench.sqlite';

/** `<out>/optbench.sqlite`. */
export const storePath = (outDir: string): string => join(outDir, STORE_FILE);

export interface StoreOptions {
  /** Refuse to create a store. */
  readonly mustExist?: boolean;
  /**
   * Only read (`runs`, `export`, `report`): the store must exist, nothing is written to it or beside it,
   * and it can be read on a read-only file system or copy (then from a copy in memory, as also when it
   * needs an upgrade to this optbench's schema).
   */
  readonly readonly?: boolean;
  /** A run whose owner sent no heartbeat for this long (and is not a live process on this host) is free again. */
  readonly leaseMs?: number;
  /** How long a write waits for another process's transaction before it fails. */
  readonly busyTimeoutMs?: number;
  /** `persist` renews the lease on BatchEnded at most this often (default leaseMs / 4). */
  readonly heartbeatEveryMs?: number;
  /**
   * How often, at most, that heartbeat also records where a training run is inside its epoch
   * (RunRow.progress; default 1000: one small write a second per training run, for the live page). On
   * BatchEnded the heartbeat beats at the shorter of the two.
   */
  readonly progressEveryMs?: number;
  /** Milliseconds since 1970; tests move it to expire leases. */
  readonly now?: () => number;
  /** Never grow the store beyond this many bytes: a quota (tests use it to stand in for a full disk). */
  readonly maxBytes?: number;
  /** Tests pose as another host or process. */
  readonly owner?: Partial<Owner>;
}

export interface Store {
  readonly file: string;
  readonly owner: Owner;
  /**
   * Writes one event in one transaction. BatchEnded is the run's heartbeat: at most every heartbeatEveryMs
   * or progressEveryMs it renews the lease and records the epoch and step; TargetReached records when the
   * run first reached its target.
   */
  writeEvent(e: StoredEvent): R<void>;
  /** Takes a run for this store, atomically across processes: 'done' if finished, 'busy' if another holds it. */
  claimRun(runId: string, spec: RunSpec): R<Claim>;
  /** Renews this store's lease on a run; false when it does not hold the run (any more). */
  heartbeat(runId: string): R<boolean>;
  /** Gives a run up without changing its status (a run left `running` then lists as interrupted). */
  releaseRun(runId: string): R<void>;
  /** Ctrl-C: the run stops where it is and resumes from its last checkpoint next time. */
  markInterrupted(runId: string): R<void>;
  /** Marks every run this store still holds as interrupted and releases it; returns their ids. */
  interruptOwned(): R<readonly string[]>;
  listRuns(): R<readonly RunRow[]>;
  runEpochs(runId: string): R<readonly EpochRecord[]>;
  /** k such that epochs 1..k are all stored. */
  completedEpochs(runId: string): R<number>;
  toRunRecords(): R<readonly RunRecord[]>;
  /** Every run as listRuns lists it (status as it stands now, its owner) beside its record, from one snapshot. */
  runsWithRecords(): R<readonly ExportedRun[]>;
  /** CSV: one row per run and epoch; JSON: the full run records. Optionally only some runs. */
  exportRuns(format: ExportFormat, runIds?: readonly string[]): R<string>;
  recordArtifact(a: ArtifactInput): R<ArtifactRow>;
  artifacts(runId?: string): R<readonly ArtifactRow[]>;
  /** Releases the runs still held (as interrupted) and closes the database. */
  close(): void;
}

/** Opens (creating and migrating where needed) the store at `file`, normally `storePath(outDir)`. */
export const openStore = (file: string, opts: StoreOptions = {}): R<Store> => {
  const readonly = opts.readonly === true;
  try {
    const exists = existsSync(file);
    if ((opts.mustExist === true || readonly) && !exists) return E.left(missing(file));
    if (exists && statSync(file).isDirectory())
      return E.left(
        storeError({
          file,
          message: `${printable(file)} is a directory, not an optbench store: give the run directory that contains ${STORE_FILE}.`,
        }),
      );
    if (exists && statSync(file).size === 0) return E.left(emptyFile(file));
    if (!exists) {
      mkdirSync(dirname(file), { recursive: true });
      const created = createStore(file);
      if (E.isLeft(created)) return created;
    }
  } catch (u) {
    return E.left(toOptbenchError(u));
  }
  let db: Database.Database;
  if (readonly) {
    const opened = openReadonly(file);
    if (E.isLeft(opened)) return opened;
    db = opened.right;
  } else {
    try {
      db = new Database(file, { fileMustExist: true });
    } catch (u) {
      return E.left(fromSqlite(file, 'opening the store', u));
    }
  }
  const version = checkVersion(db, file);
  if (E.isLeft(version)) {
    db.close();
    return version;
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.round(opts.busyTimeoutMs ?? 10_000))}`);
    if (readonly && version.right < SCHEMA_VERSION) {
      // An older store is read through an upgraded copy in memory; the file itself is left as it is.
      const copy = memoryCopy(db.serialize());
      db.close();
      db = copy;
    }
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      // FULL: a commit is on disk when it returns, so an epoch reported as written survives a power cut too.
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
    }
  } catch (u) {
    db.close();
    return E.left(fromSqlite(file, 'opening the store', u));
  }
  const migrated = migrate(db, file);
  if (E.isLeft(migrated)) {
    db.close();
    return migrated;
  }
  try {
    if (opts.maxBytes !== undefined && !readonly) {
      const page = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(opts.maxBytes / page))}`);
    }
    return E.right(makeStore(db, file, opts));
  } catch (u) {
    db.close();
    return E.left(fromSqlite(file, 'opening the store', u));
  }
};

/** One open store: its leases, writes and reads share the database, statements, owner and clock. */
const makeStore = (db: Database.Database, file: string, opts: StoreOptions): Store => {
  const ctx = storeContext(db, file, opts);
  const lease = leases(ctx);
  const { writeEvent, recordArtifact } = writes(ctx, lease);
  return {
    file,
    owner: ctx.owner,
    writeEvent,
    claimRun: lease.claimRun,
    heartbeat: lease.heartbeat,
    releaseRun: lease.releaseRun,
    markInterrupted: lease.markInterrupted,
    interruptOwned: lease.interruptOwned,
    ...reads(ctx),
    recordArtifact,
    close: () => {
      if (!db.open) return;
      if (opts.readonly !== true) lease.interruptOwned();
      db.close();
    },
  };
};
