import type Database from 'better-sqlite3';

/** Every statement the store runs, by name. */
const SQL = {
  holder: `SELECT status, owner_token, owner_pid, owner_host, owner_started, heartbeat_at FROM runs WHERE id = ?`,
  insertClaim: `INSERT INTO runs (id, label, spec, status, epochs, created_at, updated_at,
                       owner_token, owner_pid, owner_host, owner_started, heartbeat_at)
     VALUES (@id, @label, @spec, 'pending', @epochs, @now, @now, @token, @pid, @host, @started, @beat)`,
  takeClaim: `UPDATE runs SET status = @status, updated_at = @now,
       owner_token = @token, owner_pid = @pid, owner_host = @host, owner_started = @started, heartbeat_at = @beat,
       progress_epoch = NULL, progress_step = NULL
     WHERE id = @id`,
  startRun: `INSERT INTO runs (id, label, spec, status, backend, parameters, steps, epochs,
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
       owner_started = excluded.owner_started, heartbeat_at = excluded.heartbeat_at,
       progress_epoch = NULL, progress_step = NULL`,
  trimEpochs: `DELETE FROM epochs WHERE run_id = ? AND epoch > ?`,
  dropResult: `DELETE FROM results WHERE run_id = ?`,
  // An epoch ended: no step of the next one is known yet.
  touch: `UPDATE runs SET updated_at = @now, heartbeat_at = @beat, progress_epoch = NULL, progress_step = NULL
     WHERE id = @id AND owner_token = @token`,
  beat: `UPDATE runs SET heartbeat_at = @beat WHERE id = @id AND owner_token = @token`,
  // The heartbeat of a run that is training, with where it is (updated_at is left alone: no epoch changed).
  beatAt: `UPDATE runs SET heartbeat_at = @beat, progress_epoch = @epoch, progress_step = @step
     WHERE id = @id AND owner_token = @token`,
  putEpoch: `INSERT OR REPLACE INTO epochs (run_id, epoch, train_loss, train_accuracy, test_loss, test_accuracy,
                                    validation_loss, validation_accuracy, train_ms, eval_ms, created_at)
     VALUES (@id, @epoch, @trainLoss, @trainAcc, @testLoss, @testAcc, @valLoss, @valAcc, @trainMs, @evalMs, @now)`,
  putTarget: `INSERT OR REPLACE INTO targets (run_id, metric, goal, value, epoch, step, seconds, created_at)
     VALUES (@id, @metric, @goal, @value, @epoch, @step, @seconds, @now)`,
  trimTargets: `DELETE FROM targets WHERE run_id = ? AND epoch > ?`,
  allTargets: `SELECT * FROM targets ORDER BY run_id`,
  putResult: `INSERT OR REPLACE INTO results (run_id, test_loss, test_accuracy, confusion, vae, created_at)
     VALUES (@id, @testLoss, @testAcc, @confusion, @vae, @now)`,
  finish: `UPDATE runs SET status = @status, error = @error, train_ms = coalesce(@trainMs, train_ms),
       eval_ms = coalesce(@evalMs, eval_ms), finished_at = @now, updated_at = @now,
       owner_token = NULL, owner_pid = NULL, owner_host = NULL, owner_started = NULL, heartbeat_at = NULL,
       progress_epoch = NULL, progress_step = NULL
     WHERE id = @id`,
  insertFailed: `INSERT INTO runs (id, label, spec, status, error, backend, epochs, optbench_version, tfjs_version,
                       node_version, host, pid, created_at, updated_at, finished_at)
     VALUES (@id, @label, @spec, 'failed', @error, @backend, @epochs, @optbench, @tfjs, @node, @host, @pid,
             @now, @now, @now)`,
  release: `UPDATE runs SET status = CASE WHEN @interrupt = 1 AND status = 'running' THEN 'interrupted' ELSE status END,
       updated_at = @now,
       owner_token = NULL, owner_pid = NULL, owner_host = NULL, owner_started = NULL, heartbeat_at = NULL,
       progress_epoch = NULL, progress_step = NULL
     WHERE id = @id AND owner_token = @token`,
  owned: `SELECT id FROM runs WHERE owner_token = ?`,
  runs: `SELECT runs.*, results.test_loss, results.test_accuracy, results.confusion, results.vae,
            results.run_id IS NOT NULL AS has_result
     FROM runs LEFT JOIN results ON results.run_id = runs.id
     ORDER BY runs.created_at, runs.id`,
  epochsOf: `SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch`,
  allEpochs: `SELECT * FROM epochs ORDER BY run_id, epoch`,
  epochNumbers: `SELECT epoch FROM epochs WHERE run_id = ? ORDER BY epoch`,
  putArtifact: `INSERT INTO artifacts (run_id, kind, path, bytes, sha256, created_at)
     VALUES (@runId, @kind, @path, @bytes, @sha256, @now)
     ON CONFLICT (path) DO UPDATE SET run_id = excluded.run_id, kind = excluded.kind, bytes = excluded.bytes,
       sha256 = excluded.sha256, created_at = excluded.created_at
     RETURNING *`,
  artifacts: `SELECT * FROM artifacts ORDER BY id`,
  artifactsOf: `SELECT * FROM artifacts WHERE run_id = ? ORDER BY id`,
};

export type Queries = { readonly [K in keyof typeof SQL]: Database.Statement };

/** Prepares every statement once, when the store opens. */
export const prepareQueries = (db: Database.Database): Queries =>
  // Object.fromEntries cannot keep the keys' type; they are exactly SQL's.
  Object.fromEntries(Object.entries(SQL).map(([name, sql]) => [name, db.prepare(sql)])) as Queries;
