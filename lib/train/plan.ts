import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { strict } from '../config/codecs.js';
import { canonicalSchedule, Schedule } from '../config/schedule.js';
import { DataDigest, NonNegativeInt, Overrides, PositiveInt, RunSizes, decodeWith, type RunSpec } from '../config/spec.js';
import type { OptbenchError } from '../errors.js';
import type { Split } from '../data/types.js';
import { specData, type DataMd5 } from '../data/identity.js';


/** A grid as its user writes it: models x seeds x optimizers, with the protocol's sizes. */
export const GridPlan = strict(t.intersection([
  t.type({
    dataset: t.string,
    models: t.readonlyArray(t.string),
    optimizers: t.readonlyArray(strict(t.intersection([t.type({ name: t.string }), t.partial({ overrides: Overrides, schedule: Schedule })]), 'an optimizer')),
    preset: t.string,
    /** Seeds seedBase .. seedBase + seeds - 1. */
    seeds: PositiveInt,
  }),
  RunSizes,
  /** First seed (default 0); the data's digest where its name does not pin it (see fitPlanToData). */
  t.partial({ seedBase: NonNegativeInt, data: DataDigest }),
]), 'a grid plan');
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
      for (const o of plan.optimizers) {
        // The constant rate is left out of the spec (as fp32 below), so that a run's id does not change with it.
        const schedule = canonicalSchedule(o.schedule);
        specs.push({
          dataset: plan.dataset,
          ...(plan.data !== undefined ? { data: plan.data } : {}),
          model,
          optimizer: { name: o.name, preset: plan.preset, overrides: o.overrides ?? {}, ...(schedule !== undefined ? { schedule } : {}) },
          seed: (plan.seedBase ?? 0) + s,
          epochs: plan.epochs,
          batchSize: plan.batchSize,
          backend: plan.backend,
          ...(plan.subset !== undefined ? { subset: plan.subset } : {}),
          ...(plan.testSubset !== undefined ? { testSubset: plan.testSubset } : {}),
          ...(plan.holdout !== undefined ? { holdout: plan.holdout } : {}),
          // fp32 is the default and is left out of the spec, so that a run's id does not change with it.
          ...(plan.precision === 'bf16' ? { precision: plan.precision } : {}),
        });
      }
  return E.right(specs);
};

const n = (x: number): string => x.toLocaleString('en-US');

/**
 * The plan as it will really run on `data`: a subset larger than the data is all of it, a batch larger
 * than the training images is all of them (one step per epoch), a holdout that would leave nothing to
 * train on is a sixth of the training images, and a data set whose name does not pin
 * its contents is named by their digest too (lib/data/identity.ts). The plan records what is used,
 * so that grid.json, the run ids and the protocol say what ran; each change comes with a note to show.
 */
export const fitPlanToData = (
  plan: GridPlan,
  data: { readonly name: string; readonly md5: DataMd5; readonly train: Pick<Split, 'count'>; readonly test: Pick<Split, 'count'> },
): { readonly plan: GridPlan; readonly notes: readonly string[] } => {
  const notes: string[] = [];
  let { subset, testSubset, batchSize, holdout } = plan;
  if (holdout !== undefined && holdout >= data.train.count) {
    const sixth = Math.max(1, Math.floor(data.train.count / 6));
    notes.push(`--holdout ${n(holdout)} leaves none of the ${n(data.train.count)} training images of ${data.name} to train on: every run holds out a sixth of them, as 10,000 is of Fashion-MNIST's 60,000 (recorded as holdout ${n(sixth)}).`);
    holdout = sixth;
  }
  if (subset !== undefined && subset > data.train.count) {
    notes.push(`--subset ${n(subset)} is more than the ${n(data.train.count)} training images of ${data.name}: every run trains on all of them (recorded as subset ${n(data.train.count)}).`);
    subset = data.train.count;
  }
  const trainCount = Math.min(subset ?? Infinity, data.train.count - (holdout ?? 0));
  if (batchSize > trainCount) {
    notes.push(`--batch-size ${n(batchSize)} is more than the ${n(trainCount)} training images: each epoch is one step of all of them (recorded as batch size ${n(trainCount)}).`);
    batchSize = trainCount;
  }
  if (testSubset !== undefined && testSubset > data.test.count) {
    notes.push(`--test-subset ${n(testSubset)} is more than the ${n(data.test.count)} test images of ${data.name}: every run is evaluated on all of them (recorded as test subset ${n(data.test.count)}).`);
    testSubset = data.test.count;
  }
  // The data's digest, where its name does not pin what it holds (so that its runs have ids of their own).
  const { data: digest } = specData(data);
  return {
    plan: {
      ...plan,
      ...(digest !== undefined ? { data: digest } : {}),
      batchSize,
      ...(subset !== undefined ? { subset } : {}),
      ...(testSubset !== undefined ? { testSubset } : {}),
      ...(holdout !== undefined ? { holdout } : {}),
    },
    notes,
  };
};
