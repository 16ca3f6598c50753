import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { decodeRunSpec, runLabel, type RunSpec } from '../config/spec.js';
import { storeError, toOptbenchError, type OptbenchError } from '../errors.js';
import type { RunEvent, RunStarted, EpochEnded, RunEnded, RunFailed } from '../train/events.js';
import { pausedError, type EpochRecord, type RunRecord } from '../train/record.js';
import { exportCsv, exportJson, type ExportFormat } from './export.js';
import { currentOwner, holds, type Holder, type Owner } from './owner.js';
import { migrate } from './schema.js';
import { fromSqlite } from './sqlite-error.js';
import type { ArtifactInput, ArtifactRow, Claim, RunRow, StoreStatus } from './types.js';
import { libraryVersions } from './versions.js';

export const STORE_FILE = 'optbench.sqlite';

/** `<out>/optbench.sqlite`. */
export const storePath = (outDir: string): string => join(outDir, STORE_FILE);

export interface StoreOptions {
  /** Refuse to create a store (for commands that only read one: `runs`, `export`, `report`). */
  readonly mustExist?: boolean;
  /** A run whose owner sent no heartbeat for this long (and is not a live process on this host) is free again. */
  readonly leaseMs?: number;
  /** How long a write waits for another process's transaction before it fails. */
  readonly busyTimeoutMs?: number;
  /** `persist` renews the lease on BatchEnded at most this often. */
  readonly heartbeatEveryMs?: number;
  /** Milliseconds since 1970; tests move it to expire leases. */
  readonly now?: () => number;
  /** Never grow the store beyond this many bytes: a quota (tests use it to stand in for a full disk). */
  readonly maxBytes?: number;
  /** Tests pose as another host or process. */
  readonly owner?: Partial<Owner>;
}

type R<A> = E.Either<OptbenchError, A>;

export interface Store {
  readonly file: string;
  readonly owner: Owner;
  /** Writes one event in one transaction (BatchEnded only renews the lease, at most every heartbeatEveryMs). */
  writeEvent(e: RunEvent): R<void>;
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
  /** CSV: one row per run and epoch; JSON: the full run records. Optionally only some runs. */
  exportRuns(format: ExportFormat, runIds?: readonly string[]): R<string>;
  recordArtifact(a: ArtifactInput): R<ArtifactRow>;
  artifacts(runId?: string): R<readonly ArtifactRow[]>;
  /** Releases the runs still held (as interrupted) and closes the database. */
  close(): void;
}

interface RunDbRow {
  id: string;
  label: string;
  spec: string;
  status: StoreStatus;
  error: string | null;
  backend: string | null;
  parameters: number | null;
  steps: number | null;
  epochs: number;
  train_ms: number | null;
  eval_ms: number | null;
  optbench_version: string | null;
  tfjs_version: string | null;
  node_version: string | null;
  host: string | null;
  pid: number | null;
  created_at: string;
  started_at: string | null;
  updated_at: string;
  finished_at: string | null;
  owner_token: string | null;
  owner_pid: number | null;
  owner_host: string | null;
  owner_started: string | null;
  heartbeat_at: number | null;
  test_loss: number | null;
  test_accuracy: number | null;
  has_result: number | null;
  confusion: string | null;
  vae: string | null;
}

interface EpochDbRow {
  run_id: string;
  epoch: number;
  train_loss: number | null;
  train_accuracy: number | null;
  test_loss: number | null;
  test_accuracy: number | null;
  train_ms: number;
  eval_ms: number;
}

const holder = (r: Pick<RunDbRow, 'owner_token' | 'owner_pid' | 'owner_host' | 'owner_started' | 'heartbeat_at'>): Holder => ({
  token: r.owner_token,
  pid: r.owner_pid,
  host: r.owner_host,
  started: r.owner_started,
  heartbeatAt: r.heartbeat_at,
});

/** SQLite stores NaN as NULL; a loss is never null, so NULL reads back as the NaN it was. */
const lossOf = (v: number | null): number => (v === null ? NaN : v);

/** Errors may carry foreign causes (Error objects, cycles); keep what JSON can hold. */
const errorJson = (e: OptbenchError): string => {
  try {
    return JSON.stringify(e, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : v));
  } catch {
    return JSON.stringify({ _tag: e._tag, message: e.message });
  }
};

const epochRecord = (r: EpochDbRow): EpochRecord => ({
  epoch: r.epoch,
  train: { loss: lossOf(r.train_loss), accuracy: r.train_accuracy },
  // A stored evaluation always has its loss (a diverged one ends the run before its epoch is stored).
  test: r.test_loss === null ? null : { loss: r.test_loss, accuracy: r.test_accuracy },
  trainMs: r.train_ms,
  evalMs: r.eval_ms,
});

const contiguous = (epochs: readonly number[]): number => {
  let k = 0;
  for (const e of epochs) {
    if (e !== k + 1) break;
    k = e;
  }
  return k;
};

/** Opens (creating and migrating where needed) the store at `file`, normally `storePath(outDir)`. */
export const openStore = (file: string, opts: StoreOptions = {}): R<Store> => {
  if (opts.mustExist === true && !existsSync(file))
    return E.left(
      storeError({
        file,
        message: `No optbench store at ${file}: give the output directory of a task or run (its --out DIR), or run one first.`,
      }),
    );
  try {
    if (existsSync(file) && statSync(file).isDirectory())
      return E.left(
        storeError({
          file,
          message: `${file} is a directory, not an optbench store: give the run directory that contains ${STORE_FILE}.`,
        }),
      );
    mkdirSync(dirname(file), { recursive: true });
  } catch (u) {
    return E.left(toOptbenchError(u));
  }
  let db: Database.Database;
  try {
    db = new Database(file, { fileMustExist: opts.mustExist === true });
  } catch (u) {
    return E.left(fromSqlite(file, 'opening the store', u));
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.round(opts.busyTimeoutMs ?? 10_000))}`);
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk when it returns, so an epoch reported as written survives a power cut too.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
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
    if (opts.maxBytes !== undefined) {
      const page = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(opts.maxBytes / page))}`);
    }
    return E.right(makeStore(db, file, opts));
  } catch (u) {
    db.close();
    return E.left(fromSqlite(file, 'opening the store', u));
  }
};

const makeStore = (db: Database.Database, file: string, opts: StoreOptions): Store => {
  const now = opts.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const leaseMs = opts.leaseMs ?? 60_000;
  const heartbeatEveryMs = opts.heartbeatEveryMs ?? leaseMs / 4;
  const owner: Owner = { ...currentOwner(), ...opts.owner };
  const versions = libraryVersions();
  const lastBeat = new Map<string, number>();

  const q = {
    holder: db.prepare(
      `SELECT status, owner_token, owner_pid, owner_host, owner_started, heartbeat_at FROM runs WHERE id = ?`,
    ),
    insertClaim: db.prepare(
      `INSERT INTO runs (id, label, spec, status, epochs, created_at, updated_at,
                         owner_token, owner_pid, owner_host, owner_started, heartbeat_at)
       VALUES (@id, @label, @spec, 'pending', @epochs, @now, @now, @token, @pid, @host, @started, @beat)`,
    ),
    takeClaim: db.prepare(
      `UPDATE runs SET status = @status, updated_at = @now,
         owner_token = @token, owner_pid = @pid, owner_host = @host, owner_started = @started, heartbeat_at = @beat
       WHERE id = @id`,
    ),
    startRun: db.prepare(
      `INSERT INTO runs (id, label, spec, status, backend, parameters, steps, epochs,
                         optbench_version, tfjs_version, node_version, host, pid,
                         created_at, started_at, updated_at,
                         owner_token, owner_pid, owner_host, owner_started, heartbeat_at)
       VALUES (@id, @label, @spec, 'running', @backend, @parameters, @steps, @epochs,
               @optbench, @tfjs, @node, @host, @pid, @now, @startedAt, @now,
               @token, @pid, @host, @started, @beat)
       ON CONFLICT (id) DO UPDATE SET
         label = excluded.label, spec = excluded.spec, status = 'running', error = NULL,
         backend = excluded.backend, parameters = excluded.parameters, steps = excluded.steps,
         epochs = excluded.epochs, optbench_version = excluded.optbench_version,
         tfjs_version = excluded.tfjs_version, node_version = excluded.node_version,
         host = excluded.host, pid = excluded.pid, started_at = excluded.started_at,
         updated_at = excluded.updated_at, finished_at = NULL, train_ms = NULL, eval_ms = NULL,
         owner_token = excluded.owner_token, owner_pid = excluded.owner_pid, owner_host = excluded.owner_host,
         owner_started = excluded.owner_started, heartbeat_at = excluded.heartbeat_at`,
    ),
    trimEpochs: db.prepare(`DELETE FROM epochs WHERE run_id = ? AND epoch > ?`),
    dropResult: db.prepare(`DELETE FROM results WHERE run_id = ?`),
    touch: db.prepare(`UPDATE runs SET updated_at = @now, heartbeat_at = @beat WHERE id = @id AND owner_token = @token`),
    beat: db.prepare(`UPDATE runs SET heartbeat_at = @beat WHERE id = @id AND owner_token = @token`),
    putEpoch: db.prepare(
      `INSERT OR REPLACE INTO epochs (run_id, epoch, train_loss, train_accuracy, test_loss, test_accuracy,
                                      train_ms, eval_ms, created_at)
       VALUES (@id, @epoch, @trainLoss, @trainAcc, @testLoss, @testAcc, @trainMs, @evalMs, @now)`,
    ),
    putResult: db.prepare(
      `INSERT OR REPLACE INTO results (run_id, test_loss, test_accuracy, confusion, vae, created_at)
       VALUES (@id, @testLoss, @testAcc, @confusion, @vae, @now)`,
    ),
    finish: db.prepare(
      `UPDATE runs SET status = @status, error = @error, train_ms = coalesce(@trainMs, train_ms),
         eval_ms = coalesce(@evalMs, eval_ms), finished_at = @now, updated_at = @now,
         owner_token = NULL, owner_pid = NULL, owner_host = NULL, owner_started = NULL, heartbeat_at = NULL
       WHERE id = @id`,
    ),
    insertFailed: db.prepare(
      `INSERT INTO runs (id, label, spec, status, error, backend, epochs, optbench_version, tfjs_version,
                         node_version, host, pid, created_at, updated_at, finished_at)
       VALUES (@id, @label, @spec, 'failed', @error, @backend, @epochs, @optbench, @tfjs, @node, @host, @pid,
               @now, @now, @now)`,
    ),
    release: db.prepare(
      `UPDATE runs SET status = CASE WHEN @interrupt = 1 AND status = 'running' THEN 'interrupted' ELSE status END,
         updated_at = @now,
         owner_token = NULL, owner_pid = NULL, owner_host = NULL, owner_started = NULL, heartbeat_at = NULL
       WHERE id = @id AND owner_token = @token`,
    ),
    owned: db.prepare(`SELECT id FROM runs WHERE owner_token = ?`),
    runs: db.prepare(
      `SELECT runs.*, results.test_loss, results.test_accuracy, results.confusion, results.vae,
              results.run_id IS NOT NULL AS has_result
       FROM runs LEFT JOIN results ON results.run_id = runs.id
       ORDER BY runs.created_at, runs.id`,
    ),
    epochsOf: db.prepare(`SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch`),
    allEpochs: db.prepare(`SELECT * FROM epochs ORDER BY run_id, epoch`),
    epochNumbers: db.prepare(`SELECT epoch FROM epochs WHERE run_id = ? ORDER BY epoch`),
    putArtifact: db.prepare(
      `INSERT INTO artifacts (run_id, kind, path, bytes, sha256, created_at)
       VALUES (@runId, @kind, @path, @bytes, @sha256, @now)
       ON CONFLICT (path) DO UPDATE SET run_id = excluded.run_id, kind = excluded.kind, bytes = excluded.bytes,
         sha256 = excluded.sha256, created_at = excluded.created_at
       RETURNING *`,
    ),
    artifacts: db.prepare(`SELECT * FROM artifacts ORDER BY id`),
    artifactsOf: db.prepare(`SELECT * FROM artifacts WHERE run_id = ? ORDER BY id`),
  };

  const ownerParams = () => ({
    token: owner.token,
    pid: owner.pid,
    host: owner.host,
    started: owner.started,
    beat: now(),
    now: iso(),
  });

  const attempt = <A>(doing: string, f: () => R<A>): R<A> => {
    try {
      return f();
    } catch (u) {
      return E.left(fromSqlite(file, doing, u));
    }
  };
  /** One IMMEDIATE transaction: the write lock is taken up front, so a read-then-write never races another process. */
  const tx = <A>(doing: string, f: () => R<A>): R<A> =>
    attempt(doing, () => {
      // A Left rolls the transaction back too: nothing half-written is kept.
      const rollback = Symbol('rollback');
      let failed: R<A> | undefined;
      try {
        return db
          .transaction(() => {
            const r = f();
            if (E.isLeft(r)) {
              failed = r;
              throw rollback;
            }
            return r;
          })
          .immediate();
      } catch (u) {
        if (u === rollback && failed !== undefined) return failed;
        throw u;
      }
    });

  const busyError = (runId: string, h: Holder): OptbenchError =>
    storeError({
      file,
      message:
        `Run ${runId} is being trained by another optbench process (pid ${h.pid ?? '?'} on ${h.host ?? '?'}). ` +
        `Let it finish, or stop it and run the same command again.`,
    });

  /** Why this store may not write run `runId`, or null when it holds it. */
  const notHeld = (runId: string, doing: string): OptbenchError | null => {
    const row = q.holder.get(runId) as RunDbRow | undefined;
    if (row === undefined)
      return storeError({
        file,
        message:
          `Cannot record ${doing} for run ${runId}: the store has no such run (its RunStarted event was not ` +
          `written). This is a bug in the pipeline: persist() must see every event of a run.`,
      });
    const h = holder(row);
    if (h.token === owner.token) return null;
    return h.token !== null && holds(h, owner, now(), leaseMs)
      ? busyError(runId, h)
      : storeError({
          file,
          message:
            `Cannot record ${doing} for run ${runId}: this process no longer holds the run (its lease expired). ` +
            `Run the same command again to resume it.`,
        });
  };

  const versionParams = () => ({ optbench: versions.optbench, tfjs: versions.tfjs, node: versions.node });

  const writeStarted = (e: RunStarted): R<void> =>
    tx(`recording the start of run ${e.runId}`, () => {
      const row = q.holder.get(e.runId) as RunDbRow | undefined;
      if (row !== undefined && row.owner_token !== owner.token && holds(holder(row), owner, now(), leaseMs))
        return E.left(busyError(e.runId, holder(row)));
      q.startRun.run({
        ...ownerParams(),
        ...versionParams(),
        id: e.runId,
        label: runLabel(e.spec),
        spec: JSON.stringify(e.spec),
        backend: e.backend,
        parameters: e.parameters,
        steps: e.steps,
        epochs: e.spec.epochs,
        startedAt: e.startedAt,
      });
      // Epochs after the resume point were trained past the last checkpoint: they are trained again.
      q.trimEpochs.run(e.runId, e.fromEpoch);
      q.dropResult.run(e.runId);
      lastBeat.set(e.runId, now());
      return E.right(undefined);
    });

  const writeEpoch = (e: EpochEnded): R<void> =>
    tx(`recording epoch ${e.epoch} of run ${e.runId}`, () => {
      const why = notHeld(e.runId, `epoch ${e.epoch}`);
      if (why !== null) return E.left(why);
      const p = ownerParams();
      q.touch.run({ id: e.runId, token: owner.token, now: p.now, beat: p.beat });
      q.putEpoch.run({
        id: e.runId,
        epoch: e.epoch,
        trainLoss: e.train.loss,
        trainAcc: e.train.accuracy,
        testLoss: e.test?.loss ?? null,
        testAcc: e.test?.accuracy ?? null,
        trainMs: e.trainMs,
        evalMs: e.evalMs,
        now: p.now,
      });
      lastBeat.set(e.runId, p.beat);
      return E.right(undefined);
    });

  const writeEnded = (e: RunEnded): R<void> =>
    tx(`recording the results of run ${e.runId}`, () => {
      const why = notHeld(e.runId, 'the results');
      if (why !== null) return E.left(why);
      const t = iso();
      q.putResult.run({
        id: e.runId,
        testLoss: e.final?.testLoss ?? null,
        testAcc: e.final?.testAccuracy ?? null,
        confusion: e.confusion === null ? null : JSON.stringify(e.confusion),
        vae: e.vae === null ? null : JSON.stringify(e.vae),
        now: t,
      });
      q.finish.run({ id: e.runId, status: 'done', error: null, trainMs: e.trainMs, evalMs: e.evalMs, now: t });
      lastBeat.delete(e.runId);
      return E.right(undefined);
    });

  const writeFailed = (e: RunFailed): R<void> =>
    tx(`recording the failure of run ${e.runId}`, () => {
      const t = iso();
      const row = q.holder.get(e.runId) as RunDbRow | undefined;
      if (row === undefined) {
        // A run can fail before it starts (a bad spec, a backend that will not load): keep why.
        q.insertFailed.run({
          ...versionParams(),
          id: e.runId,
          label: runLabel(e.spec),
          spec: JSON.stringify(e.spec),
          error: errorJson(e.error),
          backend: e.spec.backend,
          epochs: e.spec.epochs,
          host: owner.host,
          pid: owner.pid,
          now: t,
        });
        return E.right(undefined);
      }
      if (row.owner_token !== owner.token && holds(holder(row), owner, now(), leaseMs))
        return E.left(busyError(e.runId, holder(row)));
      const status: StoreStatus = e.error._tag === 'Interrupted' ? 'interrupted' : 'failed';
      q.finish.run({ id: e.runId, status, error: errorJson(e.error), trainMs: null, evalMs: null, now: t });
      // Epochs past epochsDone were never completed; keep the store's epochs consistent with the failure.
      q.trimEpochs.run(e.runId, e.epochsDone);
      lastBeat.delete(e.runId);
      return E.right(undefined);
    });

  const heartbeat = (runId: string): R<boolean> =>
    attempt(`renewing the lease on run ${runId}`, () => {
      const beat = now();
      const changed = q.beat.run({ id: runId, token: owner.token, beat }).changes > 0;
      if (changed) lastBeat.set(runId, beat);
      return E.right(changed);
    });

  const writeEvent = (e: RunEvent): R<void> => {
    switch (e.type) {
      case 'RunStarted':
        return writeStarted(e);
      case 'EpochEnded':
        return writeEpoch(e);
      case 'RunEnded':
        return writeEnded(e);
      case 'RunFailed':
        return writeFailed(e);
      case 'RunPaused':
        // Paused is resumable, as interrupted is: the store keeps it so, with why.
        return writeFailed({ type: 'RunFailed', runId: e.runId, spec: e.spec, error: pausedError(e), epochsDone: e.epochsDone });
      case 'BatchEnded': {
        const last = lastBeat.get(e.runId);
        if (last === undefined || now() - last < heartbeatEveryMs) return E.right(undefined);
        const beat = heartbeat(e.runId);
        if (E.isLeft(beat)) return beat;
        if (beat.right) return E.right(undefined);
        const why = attempt('checking who holds the run', () => E.right(notHeld(e.runId, `step ${e.step}`)));
        return E.isLeft(why) ? why : why.right === null ? E.right(undefined) : E.left(why.right);
      }
    }
  };

  const claimRun = (runId: string, spec: RunSpec): R<Claim> =>
    tx(`claiming run ${runId}`, () => {
      const row = q.holder.get(runId) as RunDbRow | undefined;
      const p = ownerParams();
      if (row === undefined) {
        q.insertClaim.run({ ...p, id: runId, label: runLabel(spec), spec: JSON.stringify(spec), epochs: spec.epochs });
        lastBeat.set(runId, p.beat);
        return E.right<OptbenchError, Claim>('claimed');
      }
      if (row.status === 'done') return E.right<OptbenchError, Claim>('done');
      const h = holder(row);
      if (h.token !== owner.token && holds(h, owner, now(), leaseMs)) return E.right<OptbenchError, Claim>('busy');
      // A run left `running` by a holder that is gone was interrupted, whatever its process said last.
      const status: StoreStatus = row.status === 'running' && h.token !== owner.token ? 'interrupted' : row.status;
      q.takeClaim.run({ ...p, id: runId, status });
      lastBeat.set(runId, p.beat);
      return E.right<OptbenchError, Claim>('claimed');
    });

  const release = (runId: string, interrupt: boolean): R<void> =>
    attempt(`releasing run ${runId}`, () => {
      q.release.run({ id: runId, token: owner.token, interrupt: interrupt ? 1 : 0, now: iso() });
      lastBeat.delete(runId);
      return E.right(undefined);
    });
  // A released run that was left `running` lists as interrupted anyway (it has no live holder).
  const releaseRun = (runId: string) => release(runId, false);
  const markInterrupted = (runId: string) => release(runId, true);

  const interruptOwned = (): R<readonly string[]> =>
    attempt('releasing the runs of this process', () => {
      const ids = (q.owned.all(owner.token) as { id: string }[]).map((r) => r.id);
      for (const id of ids) {
        const r = markInterrupted(id);
        if (E.isLeft(r)) return r;
      }
      return E.right(ids);
    });

  const parseSpec = (r: RunDbRow): RunSpec => {
    const s = decodeRunSpec(JSON.parse(r.spec));
    // Thrown inside `attempt`, which passes OptbenchErrors through unchanged.
    if (E.isLeft(s))
      throw storeError({
        file,
        message: `${file}: the stored spec of run ${r.id} is invalid (${s.left.message}); the store was edited or damaged.`,
      });
    return s.right;
  };

  const runRow = (r: RunDbRow, epochNumbers: readonly number[], t: number): RunRow => {
    const h = holder(r);
    const live = h.token !== null && holds(h, owner, t, leaseMs);
    return {
      runId: r.id,
      label: r.label,
      spec: parseSpec(r),
      status: r.status === 'running' && !live ? 'interrupted' : r.status,
      error: r.error === null ? null : (JSON.parse(r.error) as OptbenchError),
      epochsDone: contiguous(epochNumbers),
      epochs: r.epochs,
      backend: r.backend,
      parameters: r.parameters,
      steps: r.steps,
      trainMs: r.train_ms,
      evalMs: r.eval_ms,
      final: r.has_result && r.test_loss !== null ? { testLoss: r.test_loss, testAccuracy: r.test_accuracy } : null,
      versions: { optbench: r.optbench_version, tfjs: r.tfjs_version, node: r.node_version ?? '' },
      host: r.host,
      pid: r.pid,
      owner:
        live && h.pid !== null && h.host !== null
          ? { pid: h.pid, host: h.host, heartbeatAt: h.heartbeatAt === null ? null : new Date(h.heartbeatAt).toISOString() }
          : null,
      createdAt: r.created_at,
      startedAt: r.started_at,
      updatedAt: r.updated_at,
      finishedAt: r.finished_at,
    };
  };

  const snapshot = () =>
    db.transaction(() => ({
      runs: q.runs.all() as RunDbRow[],
      epochs: q.allEpochs.all() as EpochDbRow[],
    }))();

  const byRun = (epochs: readonly EpochDbRow[]) => {
    const m = new Map<string, EpochDbRow[]>();
    for (const e of epochs) {
      const list = m.get(e.run_id) ?? [];
      list.push(e);
      m.set(e.run_id, list);
    }
    return m;
  };

  const listRuns = (): R<readonly RunRow[]> =>
    attempt('listing runs', () => {
      const s = snapshot();
      const eps = byRun(s.epochs);
      const t = now();
      return E.right(s.runs.map((r) => runRow(r, (eps.get(r.id) ?? []).map((e) => e.epoch), t)));
    });

  const toRecord = (r: RunDbRow, row: RunRow, epochs: readonly EpochDbRow[]): RunRecord => ({
    runId: r.id,
    spec: row.spec,
    status: row.status === 'pending' ? 'running' : row.status,
    backend: r.backend ?? row.spec.backend,
    parameters: r.parameters ?? 0,
    startedAt: r.started_at ?? r.created_at,
    updatedAt: r.updated_at,
    epochs: epochs.map(epochRecord),
    final: row.final,
    confusion: r.confusion === null ? null : (JSON.parse(r.confusion) as number[][]),
    vae: r.vae === null ? null : JSON.parse(r.vae),
    error: row.error,
  });

  const records = (runIds?: readonly string[]) => {
    const s = snapshot();
    const eps = byRun(s.epochs);
    const t = now();
    const wanted = runIds === undefined ? undefined : new Set(runIds);
    return s.runs
      .filter((r) => wanted === undefined || wanted.has(r.id))
      .map((r) => {
        const list = eps.get(r.id) ?? [];
        const row = runRow(r, list.map((e) => e.epoch), t);
        return { row, record: toRecord(r, row, list) };
      });
  };

  const recordArtifact = (a: ArtifactInput): R<ArtifactRow> =>
    attempt(`recording artifact ${a.path}`, () => {
      let bytes = a.bytes;
      let sha256 = a.sha256;
      if (bytes === undefined || sha256 === undefined) {
        const data = readFileSync(a.path);
        bytes ??= data.length;
        sha256 ??= createHash('sha256').update(data).digest('hex');
      }
      const r = q.putArtifact.get({ runId: a.runId, kind: a.kind, path: a.path, bytes, sha256, now: iso() }) as ArtifactDbRow;
      return E.right(artifactRow(r));
    });

  return {
    file,
    owner,
    writeEvent,
    claimRun,
    heartbeat,
    releaseRun,
    markInterrupted,
    interruptOwned,
    listRuns,
    runEpochs: (runId) =>
      attempt(`reading the epochs of run ${runId}`, () =>
        E.right((q.epochsOf.all(runId) as EpochDbRow[]).map(epochRecord)),
      ),
    completedEpochs: (runId) =>
      attempt(`reading the epochs of run ${runId}`, () =>
        E.right(contiguous((q.epochNumbers.all(runId) as { epoch: number }[]).map((r) => r.epoch))),
      ),
    toRunRecords: () => attempt('reading runs', () => E.right(records().map((x) => x.record))),
    exportRuns: (format, runIds) =>
      attempt('exporting runs', () => {
        const rs = records(runIds);
        return E.right(format === 'csv' ? exportCsv(rs) : exportJson(rs));
      }),
    recordArtifact,
    artifacts: (runId) =>
      attempt('listing artifacts', () =>
        E.right(((runId === undefined ? q.artifacts.all() : q.artifactsOf.all(runId)) as ArtifactDbRow[]).map(artifactRow)),
      ),
    close: () => {
      if (!db.open) return;
      interruptOwned();
      db.close();
    },
  };
};

interface ArtifactDbRow {
  id: number;
  run_id: string | null;
  kind: string;
  path: string;
  bytes: number;
  sha256: string;
  created_at: string;
}

const artifactRow = (r: ArtifactDbRow): ArtifactRow => ({
  id: r.id,
  runId: r.run_id,
  kind: r.kind,
  path: r.path,
  bytes: r.bytes,
  sha256: r.sha256,
  createdAt: r.created_at,
});
