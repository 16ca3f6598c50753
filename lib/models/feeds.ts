import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, type InvalidConfig } from '../errors.js';
import { BUILT_IN_MODELS, modelInfo, type ModelInfo, type ModelRegistry } from './registry.js';

/** What a model is to be fed: images of rows x cols x channels and, for a classifier, so many classes. */
export interface DataShape {
  readonly rows: number;
  readonly cols: number;
  readonly channels: number;
  readonly classes: number;
}

const dims = (s: readonly number[]): string => s.join('x');

/**
 * Why a model cannot be trained on data of this shape, or undefined when it can: the images must have
 * the model's input shape, and a classifier must output exactly the data set's classes.
 */
export const feedProblem = (m: ModelInfo, data: DataShape): string | undefined => {
  const shape = [data.rows, data.cols, data.channels];
  if (!shape.every((d, i) => d === m.inputShape[i]))
    return `${m.name} needs ${dims(m.inputShape)} images but these are ${dims(shape)}`;
  if (m.classes !== null && m.classes !== data.classes)
    return `${m.name} outputs ${m.classes} classes but the data set has ${data.classes}`;
  return undefined;
};

/** How many classes the classifiers among `models` output (the fewest, when they differ); undefined without one. */
export const classesFor = (models: readonly string[], registry: ModelRegistry = BUILT_IN_MODELS): number | undefined => {
  const counts = models.flatMap((name) => {
    const def = registry.get(name);
    if (E.isLeft(def)) return [];
    const c = modelInfo(def.right).classes;
    return c === null ? [] : [c];
  });
  return counts.length === 0 ? undefined : Math.min(...counts);
};

/** Refuses, before training, models that the data cannot feed, naming each and the shapes. */
export const checkFeeds = (
  models: readonly string[],
  data: DataShape,
  dataset: string,
  registry: ModelRegistry = BUILT_IN_MODELS,
): E.Either<InvalidConfig, void> => {
  const problems = models.flatMap((name) => {
    const def = registry.get(name);
    const p = E.isRight(def) ? feedProblem(modelInfo(def.right), data) : undefined;
    return p === undefined ? [] : [p];
  });
  return problems.length === 0
    ? E.right(undefined)
    : E.left(
        invalidConfig({
          path: 'models',
          message:
            `The data set '${dataset}' cannot be used with ${problems.length === 1 ? 'this model' : 'these models'}: ${problems.join('; ')}. ` +
            `Choose models that take this data (optbench data check lists them), or another data set.`,
        }),
      );
};
