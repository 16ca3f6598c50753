import type { RunSpec } from '../config/spec.js';
import type { OptbenchError } from '../errors.js';

/** Loss and accuracy over one pass; accuracy is null for the VAEs. */
export interface Metrics {
  readonly loss: number;
  readonly accuracy: number | null;
}

export interface RunStarted {
  readonly type: 'RunStarted';
  readonly runId: string;
  readonly spec: RunSpec;
  /** Position of this run in its grid, 1-based, and the grid's size. */
  readonly index: number;
  readonly total: number;
  readonly backend: string;
  readonly parameters: number;
  /** Training steps per epoch. */
  readonly steps: number;
  /** The epoch this run starts from (0 for a fresh run, k when resumed after epoch k). */
  readonly fromEpoch: number;
  readonly startedAt: string;
}

/** Emitted every few steps so that long runs can show progress; never persisted. */
export interface BatchEnded {
  readonly type: 'BatchEnded';
  readonly runId: string;
  readonly epoch: number;
  readonly step: number;
  readonly steps: number;
  /** Running mean of the training loss over the epoch so far. */
  readonly loss: number;
  readonly elapsedMs: number;
}

export interface EpochEnded {
  readonly type: 'EpochEnded';
  readonly runId: string;
  /** 1-based. */
  readonly epoch: number;
  readonly epochs: number;
  /** Running means over the epoch's batches, in training mode, as Keras `fit` reports them. */
  readonly train: Metrics;
  /** On the test set at the end of the epoch, in inference mode. */
  readonly test: Metrics;
  readonly trainMs: number;
  readonly evalMs: number;
}

/** Decoded VAE images (28 x 28, uint8, base64), kept so that a report never retrains. */
export interface VaeGrids {
  readonly rows: number;
  readonly cols: number;
  /** Traversal values of each latent dimension (e.g. -3..3 in 11 steps). */
  readonly steps: readonly number[];
  /** One entry per latent dimension: `steps.length` images concatenated. */
  readonly traversal: readonly string[];
  /** Images decoded from random latent vectors z ~ N(0, I), concatenated. */
  readonly samples: string;
}

export interface RunEnded {
  readonly type: 'RunEnded';
  readonly runId: string;
  readonly spec: RunSpec;
  readonly final: { readonly testLoss: number; readonly testAccuracy: number | null };
  /** Rows: predicted class, columns: true class (as in the study). Null for the VAEs. */
  readonly confusion: readonly (readonly number[])[] | null;
  readonly vae: VaeGrids | null;
  readonly trainMs: number;
  readonly evalMs: number;
}

export interface RunFailed {
  readonly type: 'RunFailed';
  readonly runId: string;
  readonly spec: RunSpec;
  readonly error: OptbenchError;
  /** Epochs completed before the failure. */
  readonly epochsDone: number;
}

export type RunEvent = RunStarted | BatchEnded | EpochEnded | RunEnded | RunFailed;

export const isTerminal = (e: RunEvent): e is RunEnded | RunFailed => e.type === 'RunEnded' || e.type === 'RunFailed';
