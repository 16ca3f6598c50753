import type { RunSpec } from '../config/spec.js';
import type { OptbenchError } from '../errors.js';

/**
 * What a grid, a sweep or a single run reports, as plain data (a trained model is never in an event: it is
 * lent beside it, see loan.ts). A trainer emits RunStarted, BatchEnded*, EpochEnded per epoch, then one of
 * RunEnded, RunPaused or RunFailed; `trainGrid` puts GridStarted before its runs.
 */

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

/** Which images an evaluation used: the test set, or the training images a spec holds out (`holdout`). */
export type EvaluationSplit = 'test' | 'validation';

/** How an epoch was evaluated, as resolved for its run (see `evaluate`). */
export interface Evaluated {
  readonly split: EvaluationSplit;
  readonly batchSize: number;
}

export interface EpochEnded {
  readonly type: 'EpochEnded';
  readonly runId: string;
  /** 1-based. */
  readonly epoch: number;
  readonly epochs: number;
  /** Running means over the epoch's batches, in training mode, as Keras `fit` reports them. */
  readonly train: Metrics;
  /**
   * At the end of the epoch, in inference mode, on the split `evaluation` names (the test set, or the
   * held-out images of a spec with `holdout`); null until `evaluate` (or the trainer) has evaluated it.
   */
  readonly test: Metrics | null;
  readonly evaluation: Evaluated | null;
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

export interface FinalMetrics {
  readonly testLoss: number;
  readonly testAccuracy: number | null;
}

export interface RunEnded {
  readonly type: 'RunEnded';
  readonly runId: string;
  readonly spec: RunSpec;
  /** The last epoch's evaluation; null when the run was not evaluated. */
  readonly final: FinalMetrics | null;
  /** Rows: predicted class, columns: true class (as in the study). Null for the VAEs and unevaluated runs. */
  readonly confusion: readonly (readonly number[])[] | null;
  readonly vae: VaeGrids | null;
  readonly trainMs: number;
  readonly evalMs: number;
}

/**
 * The run stopped where it was asked to (`untilEpoch` of its RunContext: an ASHA rung) before its last
 * epoch; it continues from its checkpoint when it is trained again.
 */
export interface RunPaused {
  readonly type: 'RunPaused';
  readonly runId: string;
  readonly spec: RunSpec;
  readonly epochsDone: number;
}

export interface RunFailed {
  readonly type: 'RunFailed';
  readonly runId: string;
  readonly spec: RunSpec;
  readonly error: OptbenchError;
  /** Epochs completed before the failure. */
  readonly epochsDone: number;
}

export type RunEvent = RunStarted | BatchEnded | EpochEnded | RunEnded | RunPaused | RunFailed;

/** Emitted by `trainGrid` before its runs: every planned run and the data set's class names. */
export interface GridStarted {
  readonly type: 'GridStarted';
  readonly specs: readonly RunSpec[];
  readonly dataset: string;
  readonly classNames: readonly string[];
}

/** What `trainGrid` emits. */
export type GridEvent = GridStarted | RunEvent;

/** Any event of a pipeline: stages act on the types they know and pass every other one on unchanged. */
export interface StreamEvent {
  readonly type: string;
}

const RUN_EVENT_TYPES: ReadonlySet<string> = new Set(['RunStarted', 'BatchEnded', 'EpochEnded', 'RunEnded', 'RunPaused', 'RunFailed']);

export const isRunEvent = <E extends StreamEvent>(e: E): e is E & RunEvent => RUN_EVENT_TYPES.has(e.type);

export const isGridStarted = <E extends StreamEvent>(e: E): e is E & GridStarted => e.type === 'GridStarted';

/** The event that ends a run's stream. */
export const isTerminal = (e: StreamEvent): e is RunEnded | RunPaused | RunFailed =>
  e.type === 'RunEnded' || e.type === 'RunFailed' || e.type === 'RunPaused';
