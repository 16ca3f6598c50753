import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { NonNegativeInt, PositiveInt, RunSizes, decodeWith, type RunSpec } from '../config/spec.js';
import type { OptbenchError } from '../errors.js';

const Overrides = t.record(t.string, t.union([t.number, t.boolean]));

/** A grid as its user writes it: models x seeds x optimizers, with the protocol's sizes. */
export const GridPlan = t.intersection([
  t.type({
    dataset: t.string,
    models: t.readonlyArray(t.string),
    optimizers: t.readonlyArray(t.intersection([t.type({ name: t.string }), t.partial({ overrides: Overrides })])),
    preset: t.string,
    /** Seeds seedBase .. seedBase + seeds - 1. */
    seeds: PositiveInt,
  }),
  RunSizes,
  /** First seed (default 0). */
  t.partial({ seedBase: NonNegativeInt }),
]);
export type GridPlan = t.TypeOf<typeof GridPlan>;

const decodeGridPlan = decodeWith(GridPlan, 'grid plan');

/**
 * The grid's runs in the order they train: model by model, then seed by seed, then optimizer, so that a
 * partial grid already holds complete, comparable rows of a model's table. The plan is decoded first: a
 * field of the wrong type is an InvalidConfig naming it (`optimizers[1].overrides.lr`).
 */
export const planGrid = (input: GridPlan): E.Either<OptbenchError, RunSpec[]> => {
  const decoded = decodeGridPlan(input);
  if (E.isLeft(decoded)) return decoded;
  const plan = decoded.right;
  const specs: RunSpec[] = [];
  for (const model of plan.models)
    for (let s = 0; s < plan.seeds; s++)
      for (const o of plan.optimizers)
        specs.push({
          dataset: plan.dataset,
          model,
          optimizer: { name: o.name, preset: plan.preset, overrides: o.overrides ?? {} },
          seed: (plan.seedBase ?? 0) + s,
          epochs: plan.epochs,
          batchSize: plan.batchSize,
          backend: plan.backend,
          ...(plan.subset !== undefined ? { subset: plan.subset } : {}),
          ...(plan.testSubset !== undefined ? { testSubset: plan.testSubset } : {}),
          ...(plan.holdout !== undefined ? { holdout: plan.holdout } : {}),
        });
  return E.right(specs);
};
