import type { RunSpec } from '../config/spec.js';
import { interrupted, type OptbenchError } from '../errors.js';
import type { FinalMetrics, Metrics, RunEvent, VaeGrids } from './events.js';
import { hitOf, type TargetHit, type TargetReached, type Targets } from './target.js';

/**
 * The files of a run directory (`--out`):
 *   grid.json                 GridRecord: what was asked for (every planned spec), class names
 *   runs/<model>-<optimizer>-s<seed>-<runId>.json   RunRecord, rewritten after every epoch
 *   results.md                the study's table layout
 * A report reads only these files (and the store, where present): it never retrains.
 */
export interface EpochRecord {
  readonly epoch: number;
  readonly train: Metrics;
  /** Null when the epoch was not evaluated (a pipeline without `evaluate`). */
  readonly test: Metrics | null;
  /** The held-out images' metrics measured beside the test set (evaluate's `heldOut`); absent otherwise. */
  readonly validation?: Metrics | null;
  readonly trainMs: number;
  readonly evalMs: number;
}

export const RUN_STATUSES = ['running', 'done', 'failed', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunRecord {
  readonly runId: string;
  readonly spec: RunSpec;
  readonly status: RunStatus;
  readonly backend: string;
  readonly parameters: number;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly epochs: readonly EpochRecord[];
  readonly final: FinalMetrics | null;
  /** Rows: predicted class, columns: true class. */
  readonly confusion: readonly (readonly number[])[] | null;
  readonly vae: VaeGrids | null;
  readonly error: OptbenchError | null;
  /** When the run first reached its target (`reachTarget`); absent or null while it has not. */
  readonly reached?: TargetHit | null;
}

export interface GridRecord {
  /** `task 1`, `quick`, `run`, ... */
  readonly task: string;
  readonly title: string;
  /** When the grid was first started in its directory (a resumed grid keeps it). */
  readonly createdAt: string;
  readonly classNames: readonly string[];
  readonly specs: readonly RunSpec[];
  /** The targets its runs were judged against (by model), when the grid had any (`--target`). */
  readonly targets?: Targets;
}

/** What a paused run's record and store row say (it is resumable, like an interrupted one). */
export const pausedError = (e: { readonly epochsDone: number; readonly spec: RunSpec }): OptbenchError =>
  interrupted(`Paused after epoch ${e.epochsDone} of ${e.spec.epochs}: the run continues from its checkpoint when it is trained again.`);

const stub = (runId: string, spec: RunSpec, now: string): RunRecord => ({
  runId,
  spec,
  status: 'running',
  backend: '',
  parameters: 0,
  startedAt: now,
  updatedAt: now,
  epochs: [],
  final: null,
  confusion: null,
  vae: null,
  error: null,
});

/**
 * A run's record after one more of its events (`prev`: before it; undefined before RunStarted). `earlier`
 * is what an earlier attempt recorded, kept for the epochs a resumed run does not train again. Pure: the
 * run directory writer (`recordRuns`) and the in-stream report (`renderD3`) both fold events with it.
 */
export const foldRunRecord = (prev: RunRecord | undefined, e: RunEvent, now: string, earlier?: RunRecord): RunRecord | undefined => {
  switch (e.type) {
    case 'RunStarted':
      return {
        ...stub(e.runId, e.spec, now),
        backend: e.backend,
        parameters: e.parameters,
        startedAt: earlier?.startedAt ?? e.startedAt,
        epochs: e.fromEpoch > 0 ? (earlier?.epochs ?? []).filter((x) => x.epoch <= e.fromEpoch) : [],
        ...(e.fromEpoch > 0 && earlier?.reached != null && earlier.reached.epoch <= e.fromEpoch ? { reached: earlier.reached } : {}),
      };
    case 'EpochEnded': {
      if (!prev) return undefined;
      const { epoch, train, test, trainMs, evalMs } = e;
      const kept = prev.epochs.filter((x) => x.epoch < epoch);
      const epochRecord: EpochRecord = { epoch, train, test, ...(e.validation !== undefined ? { validation: e.validation } : {}), trainMs, evalMs };
      return { ...prev, updatedAt: now, epochs: [...kept, epochRecord] };
    }
    case 'RunEnded':
      return prev ? { ...prev, status: 'done', updatedAt: now, final: e.final, confusion: e.confusion, vae: e.vae } : undefined;
    case 'RunPaused':
      return { ...(prev ?? stub(e.runId, e.spec, now)), status: 'interrupted', updatedAt: now, error: pausedError(e) };
    case 'RunFailed':
      return {
        ...(prev ?? stub(e.runId, e.spec, now)),
        status: e.error._tag === 'Interrupted' ? 'interrupted' : 'failed',
        updatedAt: now,
        epochs: (prev?.epochs ?? []).filter((x) => x.epoch <= e.epochsDone),
        error: e.error,
        ...(prev?.reached != null && prev.reached.epoch > e.epochsDone ? { reached: null } : {}),
      };
    case 'BatchEnded':
      return prev;
  }
};

/** A run's record once it has reached its target (`prev`: before; undefined before its RunStarted). */
export const foldTargetReached = (prev: RunRecord | undefined, e: TargetReached, now: string): RunRecord | undefined =>
  prev === undefined ? undefined : { ...prev, updatedAt: now, reached: hitOf(e) };
