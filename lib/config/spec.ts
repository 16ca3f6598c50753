import { createHash } from 'node:crypto';
import * as t from 'io-ts';
import { pipe } from 'fp-ts/lib/function.js';
import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, type InvalidConfig } from '../errors.js';

/** A whole number >= min, typed as a plain number (a refinement without a brand keeps specs easy to build). */
const intAtLeast = (name: string, min: number): t.Type<number, number, unknown> =>
  new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= min,
    (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= min ? t.success(u) : t.failure(u, c)),
    (n) => n,
  );

export const PositiveInt = intAtLeast('a positive whole number', 1);
export const NonNegativeInt = intAtLeast('a whole number >= 0', 0);

export const OptimizerChoice = t.type({
  name: t.string,
  preset: t.string,
  /** Hyperparameters that differ from the preset, e.g. `{ lr: 3e-4 }`. */
  overrides: t.record(t.string, t.union([t.number, t.boolean])),
});
export type OptimizerChoice = t.TypeOf<typeof OptimizerChoice>;

/** Precision of convolutions and matrix products (lib/backend/native-precision.ts). */
export const Precision = t.keyof({ fp32: null, bf16: null });
export type Precision = t.TypeOf<typeof Precision>;

/** Everything that decides what a run computes. Its hash is the run's id. */
export const RunSpec = t.intersection([
  t.type({
    dataset: t.string,
    model: t.string,
    optimizer: OptimizerChoice,
    seed: NonNegativeInt,
    epochs: PositiveInt,
    batchSize: PositiveInt,
    backend: t.string,
  }),
  t.partial({
    /** Train on the first N training images only (after a seeded shuffle). */
    subset: PositiveInt,
    /** Evaluate on the first N test images only (default: all). */
    testSubset: PositiveInt,
    /**
     * Hold out the LAST N training images for validation (sweeps choose hyperparameters on them, never on
     * the test set): the run trains on the rest and its per-epoch "test" metrics are on the held-out images.
     */
    holdout: PositiveInt,
    /**
     * Precision of convolutions and matrix products: 'fp32' (the default, also when absent) or 'bf16'
     * (bf16 operands, fp32 accumulation, weights, optimizer state and loss; lib/backend/native-precision.ts).
     */
    precision: Precision,
  }),
]);
export type RunSpec = t.TypeOf<typeof RunSpec>;

/** Turns io-ts errors into one InvalidConfig naming the field's path and what it expected. */
export const reportErrors = (errors: t.Errors, what = 'config'): InvalidConfig => {
  const first = errors[0];
  const path = first
    ? first.context
        .map((c) => c.key)
        .filter((k) => k !== '' && !/^\d+$/.test(k))
        .join('.')
    : '';
  const expected = first ? first.context[first.context.length - 1]?.type.name ?? 'a valid value' : 'a valid value';
  const got = first ? JSON.stringify(first.value) : 'nothing';
  return invalidConfig({
    path,
    message: `Invalid ${what}: ${path || '(root)'} must be ${expected}, got ${got}.`,
  });
};

export const decodeRunSpec = (u: unknown): E.Either<InvalidConfig, RunSpec> =>
  pipe(
    RunSpec.decode(u),
    E.mapLeft((errs) => reportErrors(errs, 'run spec')),
  );

/** JSON with object keys sorted, so that equal specs hash equally. */
export const canonicalJson = (u: unknown): string =>
  JSON.stringify(u, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

/**
 * The run's id: the first 16 hex digits of the SHA-256 of its canonical spec. An fp32 precision is the
 * default and is left out, so that a spec written before precision existed keeps its id.
 */
export const runId = (spec: RunSpec): string => {
  const { precision, ...rest } = spec;
  const canonical = precision === undefined || precision === 'fp32' ? rest : spec;
  return createHash('sha256').update(canonicalJson(canonical)).digest('hex').slice(0, 16);
};

/** A short human-readable label: `fcnn/adam/s0`. */
export const runLabel = (spec: RunSpec): string => `${spec.model}/${spec.optimizer.name}/s${spec.seed}`;
