/**
 * Mini-batches as pull-based iterables (ix): the batching stage a run consumes. An epoch's order depends
 * only on (seed, epoch), so every optimizer trained with one seed sees the same batches (the study's paired
 * design) and a resumed run continues with the order it would have had. Pulled one batch per training
 * step, so only the batches a run reaches are ever gathered.
 */
import * as E from 'fp-ts/lib/Either.js';
import { range, type IterableX } from 'ix/iterable';
import { map } from 'ix/iterable/operators';
import { invalidConfig, type InvalidConfig } from '../errors.js';
import { deriveSeed, permutation } from './rng.js';
import type { Split } from './types.js';

export interface Batch {
  /** 0-based step within the epoch. */
  readonly step: number;
  /** Position of the batch's first example in the epoch's order. */
  readonly start: number;
  /** Indices into the split (a view of the epoch's permutation; do not modify). */
  readonly indices: Uint32Array;
}

export interface EpochOptions {
  readonly batchSize: number;
  readonly seed: number;
  readonly epoch: number;
  /** Draw only from these indices of the split (default: all of them). */
  readonly subset?: ArrayLike<number>;
}

/** The order of an epoch: a permutation of the split's indices (or of `subset`). */
export const epochOrder = (count: number, seed: number, epoch: number, subset?: ArrayLike<number>): Uint32Array => {
  const n = subset?.length ?? count;
  const perm = permutation(n, deriveSeed(seed, epoch));
  if (subset === undefined) return perm;
  for (let i = 0; i < n; i++) perm[i] = subset[perm[i]!]!;
  return perm;
};

export const batchCount = (n: number, batchSize: number): number => Math.ceil(n / batchSize);

/**
 * An epoch's batches, reshuffled from deriveSeed(seed, epoch); the last batch keeps the remainder
 * when the count is not a multiple of the batch size, as Keras `fit` does.
 */
export const epochBatches = (split: Pick<Split, 'count'>, opts: EpochOptions): IterableX<Batch> => {
  const order = epochOrder(split.count, opts.seed, opts.epoch, opts.subset);
  const size = Math.max(1, Math.floor(opts.batchSize));
  return range(0, batchCount(order.length, size)).pipe(
    map((step) => {
      const start = step * size;
      return { step, start, indices: order.subarray(start, Math.min(start + size, order.length)) };
    }),
  );
};

export interface BatchData {
  /** indices.length x rows x cols pixels, row-major. */
  readonly x: Float32Array;
  readonly y: Uint8Array;
}

/** Where a run is when it asks for an epoch's batches. */
export interface EpochAt {
  readonly seed: number;
  readonly epoch: number;
  readonly batchSize: number;
}

/**
 * An epoch's batches of a training split, with their pixels and labels: what a run trains on, one batch per
 * step. Replace it (the `batches` stage) to train on another order; it should yield ceil(count / batchSize)
 * batches, as steps per epoch are counted that way.
 */
export type Batcher = (train: Split, at: EpochAt) => Iterable<Batch & BatchData>;

/**
 * The protocol's batching: the epoch's seeded permutation cut into batches (the last keeps the
 * remainder), each gathered into fresh buffers (a backend may keep the array a tensor was made from).
 */
export const seededBatches: Batcher = (train, at) =>
  epochBatches(train, at).pipe(map((b) => ({ ...b, ...gatherBatch(train, b.indices) })));

/**
 * Copies the examples at `indices` into one contiguous batch. Pass `out` to reuse buffers of the right
 * size; only do so once the previous batch's tensors are disposed, because TF.js's CPU backend keeps
 * the very array a tensor was made from instead of copying it.
 */
export const gatherBatch = (split: Split, indices: ArrayLike<number>, out?: BatchData): BatchData => {
  const pixels = split.rows * split.cols;
  const n = indices.length;
  const x = out !== undefined && out.x.length === n * pixels ? out.x : new Float32Array(n * pixels);
  const y = out !== undefined && out.y.length === n ? out.y : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const j = indices[i]!;
    x.set(split.images.subarray(j * pixels, (j + 1) * pixels), i * pixels);
    y[i] = split.labels[j]!;
  }
  return { x, y };
};

/** A split of `n` examples: the first n of a seeded permutation (not stratified). */
export const subsetSplit = (split: Split, n: number, seed: number): E.Either<InvalidConfig, Split> => {
  if (!Number.isInteger(n) || n < 1 || n > split.count)
    return E.left(
      invalidConfig({
        path: 'subset',
        message: `A subset must hold a whole number of examples between 1 and ${split.count}; got ${n}.`,
      }),
    );
  const chosen = permutation(split.count, seed).subarray(0, n);
  const { x, y } = gatherBatch(split, chosen);
  return E.right({ images: x, labels: y, count: n, rows: split.rows, cols: split.cols });
};
