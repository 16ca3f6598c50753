import * as E from 'fp-ts/lib/Either.js';
import { runLabel, type RunSpec } from '../config/spec.js';
import { subsetSplit } from '../data/batches.js';
import { deriveSeed } from '../data/rng.js';
import type { Dataset, Split } from '../data/types.js';
import { invalidConfig, type InvalidConfig, type OptbenchError } from '../errors.js';
import type { EvaluationSplit } from './events.js';

const slice = (split: Split, start: number, end: number): Split => {
  const px = split.rows * split.cols;
  return { ...split, images: split.images.subarray(start * px, end * px), labels: split.labels.subarray(start, end), count: end - start };
};

const holdoutOf = (data: Dataset, spec: RunSpec): E.Either<InvalidConfig, number> => {
  const holdout = spec.holdout ?? 0;
  return holdout >= data.train.count
    ? E.left(
        invalidConfig({
          path: 'holdout',
          message: `Cannot hold out ${holdout} of ${data.train.count} training images: choose fewer.`,
        }),
      )
    : E.right(holdout);
};

/**
 * The images a run trains on: all training images, or (with `holdout`) all but the last `holdout`, then
 * optionally a seeded subset shared by every optimizer of a seed.
 */
export const trainingSplit = (data: Dataset, spec: RunSpec): E.Either<OptbenchError, Split> => {
  const holdout = holdoutOf(data, spec);
  if (E.isLeft(holdout)) return holdout;
  const train = holdout.right > 0 ? slice(data.train, 0, data.train.count - holdout.right) : data.train;
  return spec.subset === undefined || spec.subset >= train.count ? E.right(train) : subsetSplit(train, spec.subset, deriveSeed(spec.seed, 0x5eb5e7));
};

/**
 * The images an evaluation uses: the test set, or the training images the spec holds out (`validation`,
 * which needs a `holdout`: a run that trained on every training image has nothing left to validate on).
 */
export const evaluationSplit = (data: Dataset, spec: RunSpec, split: EvaluationSplit): E.Either<OptbenchError, Split> => {
  if (split === 'test') return E.right(data.test);
  if (spec.holdout === undefined)
    return E.left(
      invalidConfig({
        path: 'evaluate.split',
        message: `${runLabel(spec)} trains on every training image, so it has no validation images: give its spec a holdout (e.g. holdout: 10000) or evaluate on 'test'.`,
      }),
    );
  const holdout = holdoutOf(data, spec);
  if (E.isLeft(holdout)) return holdout;
  return E.right(slice(data.train, data.train.count - holdout.right, data.train.count));
};
