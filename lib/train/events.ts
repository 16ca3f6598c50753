import * as t from 'io-ts';
import { matching } from '../config/codecs.js';
import { NonNegativeInt, PositiveInt, RunSpec } from '../config/spec.js';
import { OptbenchErrorCodec } from '../errors-codec.js';

/**
 * What a grid, a sweep or a single run reports, as plain data (a trained model is never in an event: it is
 * lent beside it, see loan.ts). A trainer emits RunStarted, BatchEnded*, EpochEnded per epoch, then one of
 * RunEnded, RunPaused or RunFailed; `trainGrid` puts GridStarted before its runs.
 */

/** Loss and accuracy over one pass; accuracy is null for the VAEs. */
export const Metrics = t.readonly(t.type({ loss: t.number, accuracy: t.union([t.number, t.null]) }));
export type Metrics = t.TypeOf<typeof Metrics>;

export const RunId = matching('a run id (16 hex digits)', /^[0-9a-f]{16}$/);

export const RunStarted = t.readonly(
  t.type({
    type: t.literal('RunStarted'),
    runId: RunId,
    spec: RunSpec,
    /** Position of this run in its grid, 1-based, and the grid's size. */
    index: PositiveInt,
    total: PositiveInt,
    backend: t.string,
    parameters: NonNegativeInt,
    /** Training steps per epoch. */
    steps: PositiveInt,
    /** The epoch this run starts from (0 for a fresh run, k when resumed after epoch k). */
    fromEpoch: NonNegativeInt,
    startedAt: t.string,
  }),
);
export type RunStarted = t.TypeOf<typeof RunStarted>;

/** Emitted every few steps so that long runs can show progress; never persisted (the store keeps only the latest step, with the run's heartbeat). */
export const BatchEnded = t.readonly(
  t.type({
    type: t.literal('BatchEnded'),
    runId: RunId,
    epoch: PositiveInt,
    step: PositiveInt,
    steps: PositiveInt,
    /** Running mean of the training loss over the epoch so far. */
    loss: t.number,
    elapsedMs: t.number,
  }),
);
export type BatchEnded = t.TypeOf<typeof BatchEnded>;

/** Which images an evaluation used: the test set, or the training images a spec holds out (`holdout`). */
export const EvaluationSplit = t.keyof({ test: null, validation: null });
export type EvaluationSplit = t.TypeOf<typeof EvaluationSplit>;

/** How an epoch was evaluated, as resolved for its run (see `evaluate`). */
export const Evaluated = t.readonly(t.type({ split: EvaluationSplit, batchSize: PositiveInt }));
export type Evaluated = t.TypeOf<typeof Evaluated>;

export const EpochEnded = t.readonly(
  t.intersection([
    t.type({
      type: t.literal('EpochEnded'),
      runId: RunId,
      /** 1-based. */
      epoch: PositiveInt,
      epochs: PositiveInt,
      /** Running means over the epoch's batches, in training mode, as Keras `fit` reports them. */
      train: Metrics,
      /**
       * At the end of the epoch, in inference mode, on the split `evaluation` names (the test set, or the
       * held-out images of a spec with `holdout`); null until `evaluate` (or the trainer) has evaluated it.
       */
      test: t.union([Metrics, t.null]),
      evaluation: t.union([Evaluated, t.null]),
      trainMs: t.number,
      evalMs: t.number,
    }),
    t.partial({
      /**
       * The held-out images' metrics (the spec's `holdout`), measured beside the test set when `evaluate`
       * is asked for them (`heldOut`): what a target is judged on, while `test` stays the test set's.
       */
      validation: Metrics,
    }),
  ]),
);
export type EpochEnded = t.TypeOf<typeof EpochEnded>;

/** Decoded VAE images (28 x 28, uint8, base64), kept so that a report never retrains. */
export const VaeGrids = t.readonly(
  t.type({
    rows: PositiveInt,
    cols: PositiveInt,
    /** Traversal values of each latent dimension (e.g. -3..3 in 11 steps). */
    steps: t.readonlyArray(t.number),
    /** One entry per latent dimension: `steps.length` images concatenated. */
    traversal: t.readonlyArray(t.string),
    /** Images decoded from random latent vectors z ~ N(0, I), concatenated. */
    samples: t.string,
  }),
);
export type VaeGrids = t.TypeOf<typeof VaeGrids>;

export const FinalMetrics = t.readonly(t.type({ testLoss: t.number, testAccuracy: t.union([t.number, t.null]) }));
export type FinalMetrics = t.TypeOf<typeof FinalMetrics>;

/** Rows: predicted class, columns: true class (as in the study). */
export const Confusion = t.readonlyArray(t.readonlyArray(NonNegativeInt));

export const RunEnded = t.readonly(
  t.type({
    type: t.literal('RunEnded'),
    runId: RunId,
    spec: RunSpec,
    /** The last epoch's evaluation; null when the run was not evaluated. */
    final: t.union([FinalMetrics, t.null]),
    /** Null for the VAEs and unevaluated runs. */
    confusion: t.union([Confusion, t.null]),
    vae: t.union([VaeGrids, t.null]),
    trainMs: t.number,
    evalMs: t.number,
  }),
);
export type RunEnded = t.TypeOf<typeof RunEnded>;

/**
 * The run stopped where it was asked to (`untilEpoch` of its RunContext: an ASHA rung) before its last
 * epoch; it continues from its checkpoint when it is trained again.
 */
export const RunPaused = t.readonly(t.type({ type: t.literal('RunPaused'), runId: RunId, spec: RunSpec, epochsDone: NonNegativeInt }));
export type RunPaused = t.TypeOf<typeof RunPaused>;

export const RunFailed = t.readonly(
  t.type({
    type: t.literal('RunFailed'),
    runId: RunId,
    spec: RunSpec,
    error: OptbenchErrorCodec,
    /** Epochs completed before the failure. */
    epochsDone: NonNegativeInt,
  }),
);
export type RunFailed = t.TypeOf<typeof RunFailed>;

/**
 * Every event of a run, as one codec: what the queue reads back from Redis and a worker's training
 * process sends over IPC is decoded with it, and the types above are its members.
 */
export const RunEvent = t.union([RunStarted, BatchEnded, EpochEnded, RunEnded, RunPaused, RunFailed]);
export type RunEvent = t.TypeOf<typeof RunEvent>;

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
