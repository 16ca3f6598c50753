import { createHash } from 'node:crypto';
import * as t from 'io-ts';
import { pipe } from 'fp-ts/lib/function.js';
import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, type InvalidConfig } from '../errors.js';
import { NonNegativeInt, PositiveInt } from './numbers.js';
import { canonicalSchedule, Schedule, scheduleText } from './schedule.js';

export { NonNegativeInt, PositiveInt } from './numbers.js';

export const OptimizerChoice = t.intersection([
  t.type({
    name: t.string,
    preset: t.string,
    /** Hyperparameters that differ from the preset, e.g. `{ lr: 3e-4 }`. */
    overrides: t.record(t.string, t.union([t.number, t.boolean])),
  }),
  t.partial({
    /**
     * The learning-rate schedule (lib/config/schedule.ts). Absent: the study's constant rate. A constant
     * schedule without warm-up is left out of a spec, so that ids from before schedules existed stay valid.
     */
    schedule: Schedule,
  }),
]);
export type OptimizerChoice = t.TypeOf<typeof OptimizerChoice>;

/** Precision of convolutions and matrix products (lib/backend/native-precision.ts). */
export const Precision = t.keyof({ fp32: null, bf16: null });
export type Precision = t.TypeOf<typeof Precision>;

/** What the runs of a grid share: how long, in which batches, on which backend and which images. */
export const RunSizes = t.intersection([
  t.type({
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
     * the test set): the run trains on the rest and `evaluate` reports on the held-out images.
     */
    holdout: PositiveInt,
    /**
     * Precision of convolutions and matrix products: 'fp32' (the default, also when absent) or 'bf16'
     * (bf16 operands, fp32 accumulation, weights, optimizer state and loss; lib/backend/native-precision.ts).
     */
    precision: Precision,
  }),
]);

/** Everything that decides what a run computes. Its hash is the run's id. */
export const RunSpec = t.intersection([
  t.type({
    dataset: t.string,
    model: t.string,
    optimizer: OptimizerChoice,
    seed: NonNegativeInt,
  }),
  RunSizes,
]);
export type RunSpec = t.TypeOf<typeof RunSpec>;

/**
 * The path of the field an io-ts error is about (`specs[2].optimizer.overrides.lr`), and what it expected.
 * The positions io-ts adds inside intersections and unions are not fields and are left out; array indices
 * are kept. A value that matched no member of a union expected the union (`"auto" | "test"`), not its
 * first member.
 */
const describeError = (context: t.Context): { path: string; expected: string } => {
  let path = '';
  let expected = context[context.length - 1]?.type.name ?? 'a valid value';
  for (let i = 1; i < context.length; i++) {
    const outer = context[i - 1]!.type as t.Mixed & { _tag?: string; type?: t.Mixed & { _tag?: string } };
    // An exact type validates its inner type in its own context: an intersection inside it is still one.
    const parent = outer._tag === 'ExactType' && outer.type !== undefined ? outer.type : outer;
    const key = context[i]!.key;
    if (parent._tag === 'UnionType') {
      if (i === context.length - 1) expected = parent.name;
      continue;
    }
    if (parent._tag === 'IntersectionType') continue;
    if (parent._tag === 'ArrayType' || parent._tag === 'ReadonlyArrayType') path += `[${key}]`;
    else path += path === '' ? key : `.${key}`;
  }
  return { path, expected };
};

/** Turns io-ts errors into one InvalidConfig naming the field's path and what it expected. */
export const reportErrors = (errors: t.Errors, what = 'config', prefix = ''): InvalidConfig => {
  const first = errors[0];
  const { path: inner, expected } = first ? describeError(first.context) : { path: '', expected: 'a valid value' };
  const path = prefix === '' ? inner : inner === '' ? prefix : inner.startsWith('[') ? `${prefix}${inner}` : `${prefix}.${inner}`;
  const got = first ? (first.value === undefined ? 'nothing' : JSON.stringify(first.value)) : 'nothing';
  return invalidConfig({
    path,
    message: `Invalid ${what}: ${path || '(root)'} must be ${expected}, got ${got}.`,
  });
};

/** Decodes `u` with `codec`, or says which field (under `prefix`) is wrong and what it expected. */
export const decodeWith =
  <A, O>(codec: t.Type<A, O, unknown>, what: string, prefix = '') =>
  (u: unknown): E.Either<InvalidConfig, A> =>
    pipe(
      codec.decode(u),
      E.mapLeft((errs) => reportErrors(errs, what, prefix)),
    );

export const decodeRunSpec = (u: unknown, prefix = ''): E.Either<InvalidConfig, RunSpec> => decodeWith(RunSpec, 'run spec', prefix)(u);

/** JSON with object keys sorted, so that equal specs hash equally. */
export const canonicalJson = (u: unknown): string =>
  JSON.stringify(u, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

/**
 * The spec a run's id hashes: an fp32 precision (the default) and a constant learning rate without
 * warm-up are left out, so that a spec written before precision or schedules existed keeps its id, and
 * a schedule is hashed in its canonical form (lib/config/schedule.ts).
 */
export const canonicalSpec = (spec: RunSpec): RunSpec => {
  const { precision, optimizer, ...rest } = spec;
  const { schedule, ...choice } = optimizer;
  const s = canonicalSchedule(schedule);
  return {
    ...rest,
    optimizer: s === undefined ? choice : { ...choice, schedule: s },
    ...(precision === undefined || precision === 'fp32' ? {} : { precision }),
  };
};

/** The run's id: the first 16 hex digits of the SHA-256 of its canonical spec (canonicalSpec). */
export const runId = (spec: RunSpec): string =>
  createHash('sha256').update(canonicalJson(canonicalSpec(spec))).digest('hex').slice(0, 16);

/** A short human-readable label: `fcnn/adam/s0` (it names run files: see runDisplayLabel for what tells runs apart). */
export const runLabel = (spec: RunSpec): string => `${spec.model}/${spec.optimizer.name}/s${spec.seed}`;

/** A hyperparameter value as the --optimizers grammar reads it: `0.001`, `1e9`, `true`. */
export const formatParam = (v: number | boolean): string => {
  if (typeof v === 'boolean') return String(v);
  const n = Number(v.toPrecision(6));
  return Math.abs(n) >= 1e6 || (n !== 0 && Math.abs(n) < 1e-4) ? n.toExponential().replace('e+', 'e') : String(n);
};

/**
 * The optimizer with its overrides and schedule, in the --optimizers grammar: `adam`,
 * `adam:beta2=0.99,lr=0.01`, `adam:lr=0.01,schedule=cosine,warmup=500`.
 */
export const optimizerText = (o: Pick<RunSpec['optimizer'], 'name' | 'overrides' | 'schedule'>): string => {
  const entries = Object.entries(o.overrides).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const parts = [...entries.map(([k, v]) => `${k}=${formatParam(v)}`), ...(o.schedule !== undefined ? [scheduleText(o.schedule)] : [])].filter((p) => p !== '');
  return parts.length === 0 ? o.name : `${o.name}:${parts.join(',')}`;
};

/** A label that tells apart every run of a protocol: `fcnn/adam:lr=0.01/s0`. */
export const runDisplayLabel = (spec: RunSpec): string => `${spec.model}/${optimizerText(spec.optimizer)}/s${spec.seed}`;
