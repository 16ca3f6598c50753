import type { RunSpec } from '../config/spec.js';
import type { OptbenchError } from '../errors.js';
import type { Metrics, VaeGrids } from './events.js';

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
  readonly test: Metrics;
  readonly trainMs: number;
  readonly evalMs: number;
}

export type RunStatus = 'running' | 'done' | 'failed' | 'interrupted';

export interface RunRecord {
  readonly runId: string;
  readonly spec: RunSpec;
  readonly status: RunStatus;
  readonly backend: string;
  readonly parameters: number;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly epochs: readonly EpochRecord[];
  readonly final: { readonly testLoss: number; readonly testAccuracy: number | null } | null;
  /** Rows: predicted class, columns: true class. */
  readonly confusion: readonly (readonly number[])[] | null;
  readonly vae: VaeGrids | null;
  readonly error: OptbenchError | null;
}

export interface GridRecord {
  /** `task 1`, `quick`, `run`, ... */
  readonly task: string;
  readonly title: string;
  readonly createdAt: string;
  readonly classNames: readonly string[];
  readonly specs: readonly RunSpec[];
}
