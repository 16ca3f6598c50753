import { createHash } from 'node:crypto';
import * as t from 'io-ts';
import { pipe } from 'fp-ts/lib/function.js';
import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, type InvalidConfig } from '../errors.js';
import { Finite, SafeName, UnknownKey, intIn, matching, strict } from './codecs.js';
import { NonNegativeInt, PositiveInt } from './numbers.js';
import { canonicalSchedule, Schedule, scheduleText } from './schedule.js';

export { NonNegativeInt, PositiveInt } from './numbers.js';

/**
 * Hyperparameters that differ from the preset, e.g. `{ lr: 3e-4 }`: at most 32, each named as the
 * --optimizers grammar can spell it, each a finite number or a boolean.
 */
export const Overrides = new t.Type<Record<string, number | boolean>, Record<string, number | boolean>, unknown>(
  'at most 32 hyperparameters, each a finite number or a boolean',
  (u): u is Record<string, number | boolean> => E.isRight(Overrides.validate(u, [])),
  (u, c) => {
    if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c);
    const entries = Object.entries(u);
    if (entries.length > 32) return t.failure(u, c);
    const out: Record<string, number | boolean> = {};
    for (const [k, v] of entries) {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(k)) return t.failure(u, c);
      if (typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) return t.failure(v, [...c, { key: k, type: Finite, actual: v }]);
      out[k] = v;
    }
    return t.success(out);
  },
  (o) => o,
);

export const OptimizerChoice = strict(
  t.intersection([
    t.type({ name: SafeName, preset: SafeName, overrides: Overrides }),
    t.partial({
      /**
       * The learning-rate schedule (lib/config/schedule.ts). Absent: the study's constant rate. A constant
       * schedule without warm-up is left out of a spec, so that ids from before schedules existed stay valid.
       */
      schedule: Schedule,
    }),
  ]),
  'an optimizer choice',
);
export type OptimizerChoice = t.TypeOf<typeof OptimizerChoice>;

/** Precision of convolutions and matrix products (lib/backend/native-precision.ts). */
export const Precision = t.keyof({ fp32: null, bf16: null });
export type Precision = t.TypeOf<typeof Precision>;

/** What the runs of a grid share: how long, in which batches, on which backend and which images. */
export const RunSizes = t.intersection([
  t.type({
    epochs: intIn('a number of epochs from 1 to 10000', 1, 10_000),
    batchSize: intIn('a batch size from 1 to 1000000', 1, 1_000_000),
    backend: SafeName,
  }),
  t.partial({
    /** Train on the first N training images only (after a seeded shuffle). */
    subset: intIn('a subset from 1 to 100000000', 1, 100_000_000),
    /** Evaluate on the first N test images only (default: all). */
    testSubset: intIn('a test subset from 1 to 100000000', 1, 100_000_000),
    /**
     * Hold out the LAST N training images for validation (sweeps choose hyperparameters on them, never on
     * the test set): the run trains on the rest and `evaluate` reports on the held-out images.
     */
    holdout: intIn('a holdout from 1 to 100000000', 1, 100_000_000),
    /**
     * Precision of convolutions and matrix products: 'fp32' (the default, also when absent) or 'bf16'
     * (bf16 operands, fp32 accumulation, weights, optimizer state and loss; lib/backend/native-precision.ts).
     */
    precision: Precision,
  }),
]);

/** The digest of a data set's contents (lib/data/identity.ts): 16 hex digits. */
export const DataDigest = matching('a data digest (16 hex digits)', /^[0-9a-f]{16}$/);

/**
 * Everything that decides what a run computes; its hash is the run's id. The one codec of a run's spec:
 * what trainers, run files, the store and queue jobs decode, bounded, and refusing unknown fields.
 */
export const RunSpec = strict(
  t.intersection([
    t.type({
      dataset: SafeName,
      model: SafeName,
      optimizer: OptimizerChoice,
      seed: intIn('a seed from 0 to 2^32 - 1', 0, 2 ** 32 - 1),
    }),
    t.partial({
      /**
       * The digest of the data's contents, for a data set whose name does not pin them (any but
       * fashion-mnist and fashion-mini): two data sets under one name never share a run id.
       */
      data: DataDigest,
    }),
    RunSizes,
  ]),
  'a run spec',
);
export type RunSpec = t.TypeOf<typeof RunSpec>;

/**
 * The path of the field an io-ts error is about (`specs[2].optimizer.overrides.lr`), and what it expected.
 * The positions io-ts adds inside intersections and unions are not fields and are left out; array indices
 * are kept. A value that matched no member of a union expected the union (`"auto" | "test"`), not its
 * first member.
 */
type Wrapper = t.Decoder<unknown, unknown> & { _tag?: string; name: string; type?: Wrapper; strictOf?: Wrapper };
const unwrapped = (codec: t.Decoder<unknown, unknown>): Wrapper => {
  let c = codec as Wrapper;
  for (;;) {
    if (c.strictOf !== undefined) c = c.strictOf;
    else if ((c._tag === 'ExactType' || c._tag === 'ReadonlyType') && c.type !== undefined) c = c.type;
    else return c;
  }
};

const describeError = (context: t.Context): { path: string; expected: string } => {
  let path = '';
  let expected = context[context.length - 1]?.type.name ?? 'a valid value';
  for (let i = 1; i < context.length; i++) {
    // A wrapper (codecs.ts: strict, JsonText; record.ts: a file's defaults) stands for the codec it wraps,
    // and exact and readonly types validate their inner type in their own context: an intersection inside
    // any of them is still one.
    const parent = unwrapped(context[i - 1]!.type);
    const key = context[i]!.key;
    if (context[i]!.type === UnknownKey) {
      path += path === '' ? key : `.${key}`;
      continue;
    }
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
    message:
      first?.message !== undefined
        ? `Invalid ${what}: ${path || '(root)'} ${first.message}.`
        : `Invalid ${what}: ${path || '(root)'} must be ${expected}, got ${got}.`,
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
