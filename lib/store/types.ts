import * as t from 'io-ts';
import type { RunSpec } from '../config/spec.js';
import type { OptbenchError } from '../errors.js';
import type { Versions } from './versions.js';

/**
 * What the store knows of a run. `pending`: claimed or planned, no epoch trained yet in this attempt;
 * `interrupted`: stopped before its last epoch (Ctrl-C, a killed process); it resumes from its last checkpoint.
 */
export const StoreStatus = t.keyof(
  { pending: null, running: null, done: null, failed: null, interrupted: null },
  'one of pending, running, done, failed, interrupted',
);
export type StoreStatus = t.TypeOf<typeof StoreStatus>;

/** The outcome of `claimRun`: this process may train the run, it is finished, or another process trains it. */
export type Claim = 'claimed' | 'done' | 'busy';

export interface RunRow {
  readonly runId: string;
  /** `fcnn/adam/s0`. */
  readonly label: string;
  readonly spec: RunSpec;
  /** As it stands now: a run recorded as `running` whose owner is gone shows as `interrupted`. */
  readonly status: StoreStatus;
  readonly error: OptbenchError | null;
  /** Epochs completed (1..epochsDone are all stored) and planned. */
  readonly epochsDone: number;
  readonly epochs: number;
  readonly backend: string | null;
  readonly parameters: number | null;
  readonly steps: number | null;
  /**
   * Where a run that a live process trains is inside its epoch: the epoch under way (1-based) and the last
   * step recorded, of `steps`. Recorded with the heartbeat (about once a second, see StoreOptions), cleared
   * when the epoch or the run ends; null when not known (no step yet, or a store older than schema v4).
   */
  readonly progress: { readonly epoch: number; readonly step: number } | null;
  readonly trainMs: number | null;
  readonly evalMs: number | null;
  readonly final: { readonly testLoss: number; readonly testAccuracy: number | null } | null;
  readonly versions: Versions;
  /** Host and pid of the process that last started it. */
  readonly host: string | null;
  readonly pid: number | null;
  /** The live process that holds it now, if any. */
  readonly owner: { readonly pid: number; readonly host: string; readonly heartbeatAt: string | null } | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
}

export interface ArtifactInput {
  /** Null for files that belong to no single run (a report's figures and tables). */
  readonly runId: string | null;
  /** `figure`, `table`, `html`, `checkpoint`, ... */
  readonly kind: string;
  readonly path: string;
  /** Read from the file when omitted. */
  readonly bytes?: number;
  readonly sha256?: string;
}

export interface ArtifactRow {
  readonly id: number;
  readonly runId: string | null;
  readonly kind: string;
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly createdAt: string;
}
