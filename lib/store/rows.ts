/** The store's tables as SQLite returns them, and how each row becomes the library's own types. */
import * as E from 'fp-ts/lib/Either.js';
import { decodeRunSpec, type RunSpec } from '../config/spec.js';
import { storeError, type OptbenchError } from '../errors.js';
import type { EpochRecord, RunRecord } from '../train/record.js';
import type { Holder } from './owner.js';
import type { ArtifactRow, RunRow, StoreStatus } from './types.js';

export interface RunDbRow {
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

export interface EpochDbRow {
  run_id: string;
  epoch: number;
  train_loss: number | null;
  train_accuracy: number | null;
  test_loss: number | null;
  test_accuracy: number | null;
  train_ms: number;
  eval_ms: number;
}

export interface ArtifactDbRow {
  id: number;
  run_id: string | null;
  kind: string;
  path: string;
  bytes: number;
  sha256: string;
  created_at: string;
}

export const holder = (r: Pick<RunDbRow, 'owner_token' | 'owner_pid' | 'owner_host' | 'owner_started' | 'heartbeat_at'>): Holder => ({
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

/** Throws (inside the store's `attempt`, which passes OptbenchErrors through) when the stored spec is not a RunSpec. */
const parseSpec = (file: string, r: RunDbRow): RunSpec => {
  const s = decodeRunSpec(JSON.parse(r.spec));
  if (E.isLeft(s))
    throw storeError({
      file,
      message: `${file}: the stored spec of run ${r.id} is invalid (${s.left.message}); the store was edited or damaged.`,
    });
  return s.right;
};

/** `live`: a process still holds the run (a `running` run without one lists as interrupted). */
export const runRow = (file: string, r: RunDbRow, epochNumbers: readonly number[], live: boolean): RunRow => {
  const h = holder(r);
  return {
    runId: r.id,
    label: r.label,
    spec: parseSpec(file, r),
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
  confusion: r.confusion === null ? null : (JSON.parse(r.confusion) as number[][]),
  vae: r.vae === null ? null : JSON.parse(r.vae),
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
