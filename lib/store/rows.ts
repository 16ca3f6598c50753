/**
 * The store's tables as SQLite returns them, as codecs: each row read is decoded (its JSON columns too:
 * a run's spec, error, confusion matrix and VAE grids), so that a row the store was not written with is
 * refused naming its run and the bad column, and everything past this file sees the library's own types.
 */
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import { JsonText, nullable } from '../config/codecs.js';
import { RunSpec, reportErrors } from '../config/spec.js';
import { OptbenchErrorCodec } from '../errors-codec.js';
import { printable, storeError, type OptbenchError, type StoreError } from '../errors.js';
import { Confusion, VaeGrids } from '../train/events.js';
import type { EpochRecord, RunRecord } from '../train/record.js';
import type { Holder } from './owner.js';
import { rebuildAdvice } from './sqlite-error.js';
import { StoreStatus, type ArtifactRow, type RunRow } from './types.js';

const text = t.string;
const optText = nullable(t.string);
const optNum = nullable(t.number);

/** Who holds a run, and its status: what claims and writes read before they change a run. */
export const HolderDbRow = t.type({
  status: StoreStatus,
  owner_token: optText,
  owner_pid: optNum,
  owner_host: optText,
  owner_started: optText,
  heartbeat_at: optNum,
});
export type HolderDbRow = t.TypeOf<typeof HolderDbRow>;

/** A run with its result (`runs LEFT JOIN results`), its JSON columns decoded. */
export const RunDbRow = t.intersection([
  HolderDbRow,
  t.type({
    id: text,
    label: text,
    spec: JsonText(RunSpec),
    error: nullable(JsonText(OptbenchErrorCodec)),
    backend: optText,
    parameters: optNum,
    steps: optNum,
    epochs: t.number,
    train_ms: optNum,
    eval_ms: optNum,
    optbench_version: optText,
    tfjs_version: optText,
    node_version: optText,
    host: optText,
    pid: optNum,
    created_at: text,
    started_at: optText,
    updated_at: text,
    finished_at: optText,
    test_loss: optNum,
    test_accuracy: optNum,
    has_result: optNum,
    confusion: nullable(JsonText(Confusion)),
    vae: nullable(JsonText(VaeGrids)),
  }),
  // Where the run is inside its epoch, with the heartbeat (schema v4; absent from an older store's row).
  t.partial({ progress_epoch: optNum, progress_step: optNum }),
]);
export type RunDbRow = t.TypeOf<typeof RunDbRow>;

export const EpochDbRow = t.intersection([
  t.type({
    run_id: text,
    epoch: t.number,
    train_loss: optNum,
    train_accuracy: optNum,
    test_loss: optNum,
    test_accuracy: optNum,
    train_ms: t.number,
    eval_ms: t.number,
  }),
  // The held-out metrics measured beside the test set (schema v3).
  t.partial({ validation_loss: optNum, validation_accuracy: optNum }),
]);
export type EpochDbRow = t.TypeOf<typeof EpochDbRow>;

export const ArtifactDbRow = t.type({
  id: t.number,
  run_id: optText,
  kind: text,
  path: text,
  bytes: t.number,
  sha256: text,
  created_at: text,
});
export type ArtifactDbRow = t.TypeOf<typeof ArtifactDbRow>;

/** Which row a decoding failure is about, for its message: `run 0123abcd…`, `an artifact`. */
type Table = 'runs' | 'epochs' | 'artifacts' | 'targets';
const rowName = (u: unknown, table: Table): string => {
  const r = (typeof u === 'object' && u !== null ? u : {}) as Record<string, unknown>;
  const id = table === 'epochs' || table === 'targets' ? r['run_id'] : r['id'];
  const shown = typeof id === 'string' || typeof id === 'number' ? printable(String(id)) : '?';
  return table === 'runs'
    ? `run ${shown}`
    : table === 'epochs'
      ? `an epoch (${printable(String(r['epoch'] ?? '?'))}) of run ${shown}`
      : table === 'targets'
        ? `the target hit of run ${shown}`
        : `artifact ${shown}`;
};

/**
 * A row as `codec` decodes it, or a StoreError naming the store, the row, the bad column (with the path
 * inside a JSON column: `spec.optimizer.name`) and what to do: the store was edited or damaged.
 */
export const decodeRow =
  <A>(codec: t.Decoder<unknown, A>, file: string, table: Table) =>
  (u: unknown): E.Either<StoreError, A> =>
    pipe(
      codec.decode(u),
      E.mapLeft((errs) => {
        const bad = reportErrors(errs, `row of ${rowName(u, table)}`);
        return storeError({
          file,
          field: bad.path,
          message: `${printable(file)}: ${bad.message} The store was edited or damaged. ${rebuildAdvice(file)}`,
        });
      }),
    );

/** The holder row of a run (undefined: the store has no such run), decoded. */
export const decodeHolder =
  (file: string) =>
  (u: unknown): E.Either<StoreError, HolderDbRow | undefined> =>
    u === undefined ? E.right(undefined) : decodeRow(HolderDbRow, file, 'runs')(u);

export const holder = (r: HolderDbRow): Holder => ({
  token: r.owner_token,
  pid: r.owner_pid,
  host: r.owner_host,
  started: r.owner_started,
  heartbeatAt: r.heartbeat_at,
});

/** SQLite stores NaN as NULL; a loss is never null, so NULL reads back as the NaN it was. */
const lossOf = (v: number | null): number => (v === null ? NaN : v);

/** Errors may carry foreign causes (Error objects, cycles); keep what JSON can hold. */
export const errorJson = (e: OptbenchError): string => {
  try {
    return JSON.stringify(e, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : v));
  } catch {
    return JSON.stringify({ _tag: e._tag, message: e.message });
  }
};

export const epochRecord = (r: EpochDbRow): EpochRecord => ({
  epoch: r.epoch,
  train: { loss: lossOf(r.train_loss), accuracy: r.train_accuracy },
  // A stored evaluation always has its loss (a diverged one ends the run before its epoch is stored).
  test: r.test_loss === null ? null : { loss: r.test_loss, accuracy: r.test_accuracy },
  trainMs: r.train_ms,
  evalMs: r.eval_ms,
});

/** k such that epochs 1..k are all in `epochs` (ascending). */
export const contiguous = (epochs: readonly number[]): number => {
  let k = 0;
  for (const e of epochs) {
    if (e !== k + 1) break;
    k = e;
  }
  return k;
};

/** The step recorded with the last heartbeat, while a live process trains the run (a dead one's is stale). */
const progressOf = (r: RunDbRow, live: boolean): RunRow['progress'] => {
  const epoch = r.progress_epoch ?? null;
  const step = r.progress_step ?? null;
  return live && r.status === 'running' && epoch !== null && step !== null ? { epoch, step } : null;
};

/** `live`: a process still holds the run (a `running` run without one lists as interrupted). */
export const runRow = (r: RunDbRow, epochNumbers: readonly number[], live: boolean): RunRow => {
  const h = holder(r);
  return {
    runId: r.id,
    label: r.label,
    spec: r.spec,
    status: r.status === 'running' && !live ? 'interrupted' : r.status,
    error: r.error,
    epochsDone: contiguous(epochNumbers),
    epochs: r.epochs,
    backend: r.backend,
    parameters: r.parameters,
    steps: r.steps,
    progress: progressOf(r, live),
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

export const toRecord = (r: RunDbRow, row: RunRow, epochs: readonly EpochDbRow[]): RunRecord => ({
  runId: r.id,
  spec: row.spec,
  status: row.status === 'pending' ? 'running' : row.status,
  backend: r.backend ?? row.spec.backend,
  parameters: r.parameters ?? 0,
  startedAt: r.started_at ?? r.created_at,
  updatedAt: r.updated_at,
  epochs: epochs.map(epochRecord),
  final: row.final,
  confusion: r.confusion,
  vae: r.vae,
  error: row.error,
});

export const artifactRow = (r: ArtifactDbRow): ArtifactRow => ({
  id: r.id,
  runId: r.run_id,
  kind: r.kind,
  path: r.path,
  bytes: r.bytes,
  sha256: r.sha256,
  createdAt: r.created_at,
});
