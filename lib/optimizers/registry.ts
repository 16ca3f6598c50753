import type * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as RA from 'fp-ts/lib/ReadonlyArray.js';
import { isScheduleKey, SCHEDULE_KEYS } from '../config/schedule.js';
import { invalidConfig, toOptbenchError, unknown, type InvalidConfig, type OptbenchError } from '../errors.js';
import {
  canonicalParam,
  checkParam,
  isOptimizerName,
  knownKindOf,
  OPTIMIZER_NAMES,
  PARAM_KINDS,
  validateParam,
  type OptimizerName,
  type ParamKind,
  type ParamValue,
} from './params.js';

/**
 * A user optimizer, as a registry takes it (`optimizerRegistry`, `createRuntime({ optimizers })`). In that
 * registry its name works wherever a built-in's does: createOptimizer, resolveOptimizer, RunSpecs (runFit,
 * trainGrid with that runtime), `--optimizers`, `optbench list`. It has one set of defaults, used under every preset.
 */
export interface OptimizerDef {
  /** 1-40 characters: lower-case letters, digits, '-' or '_', starting with a letter. */
  readonly name: string;
  /** One line for `optbench list` (the update rule, where it comes from). */
  readonly description?: string;
  /** Every hyperparameter with its default; overrides may name only these (or a common alias of one). */
  readonly defaults: Readonly<Record<string, ParamValue>>;
  /** Where each default comes from (a paper, a library); shown by `optbench list`. */
  readonly sources?: Readonly<Record<string, string>>;
  /**
   * The range of a hyperparameter. Names the built-ins use keep their range unless given here (lr > 0,
   * beta1/beta2/rho/momentum in [0, 1), eps >= 0, ...); a boolean default is a flag; any other name needs one.
   */
  readonly ranges?: Readonly<Record<string, ParamKind>>;
  /** Checks the whole set of values (e.g. beta1 < beta2); returns what is wrong, or undefined when valid. */
  readonly validate?: (params: Readonly<Record<string, ParamValue>>) => string | undefined;
  /** Builds a fresh optimizer from a full set of validated values (defaults with overrides applied). */
  readonly create: (params: Record<string, ParamValue>) => tf.Optimizer;
}

/** What the registry keeps: the definition as registered, with every range decided and defaults normalised. */
export interface Registered {
  readonly def: OptimizerDef;
  readonly defaults: Readonly<Record<string, ParamValue>>;
  readonly kinds: Readonly<Record<string, ParamKind>>;
}

/**
 * The optimizers a run can name beyond the built-ins: a value, never state of the process. A run resolves
 * its spec's optimizer in the registry of its runtime (lib/train/runtime.ts); `with` gives a new registry.
 */
export interface OptimizerRegistry {
  /** The user optimizers, by name, in the order given. */
  readonly defs: ReadonlyMap<string, Registered>;
  /** This registry with `defs` added, each checked (see `with`'s refusals below); this one is unchanged. */
  readonly with: (...defs: readonly OptimizerDef[]) => E.Either<InvalidConfig, OptimizerRegistry>;
}

const registryOf = (defs: ReadonlyMap<string, Registered>): OptimizerRegistry => ({
  defs,
  with: (...more) =>
    pipe(
      more,
      RA.reduce(E.right<InvalidConfig, ReadonlyMap<string, Registered>>(defs), (so, def) => E.flatMap((m: ReadonlyMap<string, Registered>) => withChecked(m, def))(so)),
      E.map(registryOf),
    ),
});

/** The built-in optimizers only: no user optimizer. */
export const BUILT_IN_OPTIMIZERS: OptimizerRegistry = registryOf(new Map());

/** The built-ins and the user's `defs`: the registry a runtime resolves optimizer names in. */
export const optimizerRegistry = (defs: readonly OptimizerDef[] = []): E.Either<InvalidConfig, OptimizerRegistry> => BUILT_IN_OPTIMIZERS.with(...defs);

const NAME = /^[a-z][a-z0-9_-]{0,39}$/;
// Hyperparameter names travel through `name:key=value,key=value`, so they may hold none of ':', ',', '='.
const PARAM = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;

/** Registered optimizer names, in registration order. */
export const registeredOptimizerNames = (reg: OptimizerRegistry = BUILT_IN_OPTIMIZERS): string[] => [...reg.defs.keys()];

/** Every optimizer name createOptimizer knows: the built-ins, then registered ones. */
export const optimizerNames = (reg: OptimizerRegistry = BUILT_IN_OPTIMIZERS): string[] => [...OPTIMIZER_NAMES, ...reg.defs.keys()];

/** The definition of a registered optimizer, as it was registered. */
export const registeredOptimizer = (name: string, reg: OptimizerRegistry = BUILT_IN_OPTIMIZERS): OptimizerDef | undefined => reg.defs.get(name)?.def;

/** A registered optimizer's defaults (flags given as 0/1 are stored as booleans). */
export const registeredDefaults = (name: string, reg: OptimizerRegistry = BUILT_IN_OPTIMIZERS): Record<string, ParamValue> | undefined => {
  const r = reg.defs.get(name);
  return r === undefined ? undefined : { ...r.defaults };
};

/** Canonical name of a hyperparameter of any optimizer: a registered optimizer's own names win over aliases. */
export const canonicalParamOf = (optimizer: string, key: string, reg: OptimizerRegistry = BUILT_IN_OPTIMIZERS): string => {
  const r = reg.defs.get(optimizer);
  return r !== undefined && key in r.defaults ? key : canonicalParam(optimizer, key);
};

/** Checks one value of any optimizer's hyperparameter against its range. */
export const validateParamOf = (
  optimizer: string,
  param: string,
  value: unknown,
  path: string,
  reg: OptimizerRegistry = BUILT_IN_OPTIMIZERS,
): E.Either<OptbenchError, ParamValue> => {
  const r = reg.defs.get(optimizer);
  if (r === undefined) return validateParam(optimizer as OptimizerName, param, value, path);
  return checkParam(optimizer, param, r.kinds[param] ?? 'rate', value, path);
};

const runValidate = (
  def: OptimizerDef,
  params: Readonly<Record<string, ParamValue>>,
  path: string,
): E.Either<InvalidConfig, void> => {
  if (def.validate === undefined) return E.right(undefined);
  let problem: string | undefined;
  try {
    problem = def.validate({ ...params });
  } catch (e) {
    problem = `its validate() threw: ${toOptbenchError(e).message}`;
  }
  if (problem === undefined) return E.right(undefined);
  const values = Object.entries(params)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
  return E.left(invalidConfig({ path, message: `${def.name} refuses ${values}: ${problem.replace(/\.$/, '')}.` }));
};

/** Runs a registered optimizer's own `validate` on a full set of values; a throw counts as a refusal. */
export const checkRegisteredParams = (
  optimizer: string,
  params: Readonly<Record<string, ParamValue>>,
  path: string,
  reg: OptimizerRegistry = BUILT_IN_OPTIMIZERS,
): E.Either<InvalidConfig, void> => {
  const r = reg.defs.get(optimizer);
  return r === undefined ? E.right(undefined) : runValidate(r.def, params, path);
};

const looksLikeOptimizer = (o: unknown): o is tf.Optimizer =>
  typeof o === 'object' &&
  o !== null &&
  typeof (o as tf.Optimizer).applyGradients === 'function' &&
  typeof (o as tf.Optimizer).minimize === 'function' &&
  typeof (o as tf.Optimizer).dispose === 'function';

/**
 * Builds a registered optimizer from a full set of validated values. A `create` that throws or returns
 * something other than a tf.Optimizer is reported, not thrown.
 */
export const createRegistered = (
  optimizer: string,
  params: Record<string, ParamValue>,
  reg: OptimizerRegistry = BUILT_IN_OPTIMIZERS,
): E.Either<OptbenchError, tf.Optimizer> => {
  const r = reg.defs.get(optimizer);
  if (r === undefined) return E.left(unknown('optimizer', optimizer, optimizerNames(reg)));
  return build(r.def, params);
};

const build = (def: OptimizerDef, params: Record<string, ParamValue>): E.Either<InvalidConfig, tf.Optimizer> => {
  let made: unknown;
  try {
    made = def.create({ ...params });
  } catch (e) {
    return E.left(
      invalidConfig({ path: 'optimizer.create', message: `Creating optimizer '${def.name}' failed: ${toOptbenchError(e).message}` }),
    );
  }
  if (!looksLikeOptimizer(made))
    return E.left(
      invalidConfig({
        path: 'optimizer.create',
        message: `Optimizer '${def.name}': create() must return a tf.Optimizer (e.g. a RuleOptimizer subclass), got ${
          made === null ? 'null' : typeof made
        }.`,
      }),
    );
  return E.right(made);
};

const bad = (path: string, message: string): E.Either<InvalidConfig, never> => E.left(invalidConfig({ path, message }));

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

/** Every hyperparameter's range, or what is missing. */
const decideKinds = (def: OptimizerDef): E.Either<InvalidConfig, Record<string, ParamKind>> => {
  const ranges: Record<string, unknown> = def.ranges ?? {};
  if (!isRecord(ranges)) return bad('optimizer.ranges', `Optimizer '${def.name}': ranges must be an object { param: kind }.`);
  for (const [k, kind] of Object.entries(ranges)) {
    if (!(k in def.defaults))
      return bad(`optimizer.ranges.${k}`, `Optimizer '${def.name}': ranges names '${k}', which has no default. Add it to defaults or remove it.`);
    if (!(PARAM_KINDS as readonly unknown[]).includes(kind))
      return bad(
        `optimizer.ranges.${k}`,
        `Optimizer '${def.name}': range '${String(kind)}' of ${k} is not one of ${PARAM_KINDS.join(', ')}.`,
      );
  }
  const kinds: Record<string, ParamKind> = {};
  for (const [k, v] of Object.entries(def.defaults)) {
    const kind = (ranges[k] as ParamKind | undefined) ?? knownKindOf(k) ?? (typeof v === 'boolean' ? 'flag' : undefined);
    if (kind === undefined)
      return bad(
        `optimizer.ranges.${k}`,
        `Optimizer '${def.name}': the built-ins have no hyperparameter '${k}', so its range is unknown. ` +
          `Give it one, e.g. ranges: { ${k}: 'nonNegative' } (one of ${PARAM_KINDS.join(', ')}).`,
      );
    kinds[k] = kind;
  }
  return E.right(kinds);
};

/** Checks a definition against the names `taken`: name, defaults and their ranges, sources, validate, create. */
const check = (def: OptimizerDef, taken: ReadonlyMap<string, Registered>): E.Either<InvalidConfig, Registered> => {
  if (!isRecord(def))
    return bad('optimizer', 'An optimizer definition is an object { name, defaults, create, ... }.');
  const name: unknown = def.name;
  if (typeof name !== 'string' || !NAME.test(name))
    return bad(
      'optimizer.name',
      `Optimizer name '${String(name)}' is not valid: use 1-40 characters, lower-case letters, digits, '-' or '_', starting with a letter.`,
    );
  if (name === 'all' || name === 'study' || name === 'modern')
    return bad(
      'optimizer.name',
      `'${name}' is reserved: in --optimizers it names a group (all: every optimizer, study: the study's seven, modern: the built-ins beyond them). Choose another name.`,
    );
  if (isOptimizerName(name))
    return bad(
      'optimizer.name',
      `'${name}' is a built-in optimizer: choose another name (for other hyperparameters of ${name}, pass overrides to createOptimizer or --optimizers ${name}:key=value).`,
    );
  if (taken.has(name)) return bad('optimizer.name', `An optimizer named '${name}' is already in the registry: choose another name.`);
  if (def.description !== undefined && typeof def.description !== 'string')
    return bad('optimizer.description', `Optimizer '${name}': description must be a string.`);
  if (typeof def.create !== 'function')
    return bad('optimizer.create', `Optimizer '${name}': create must be a function (params) => tf.Optimizer.`);
  if (def.validate !== undefined && typeof def.validate !== 'function')
    return bad('optimizer.validate', `Optimizer '${name}': validate must be a function (params) => string | undefined.`);
  if (!isRecord(def.defaults))
    return bad('optimizer.defaults', `Optimizer '${name}': defaults must be an object { param: number | boolean }, e.g. { lr: 1e-4 }.`);
  for (const [k, v] of Object.entries(def.defaults)) {
    if (!PARAM.test(k))
      return bad(
        `optimizer.defaults.${k}`,
        `Optimizer '${name}': hyperparameter name '${k}' is not valid: use 1-40 letters, digits or '_', starting with a letter.`,
      );
    if (isScheduleKey(k))
      return bad(
        `optimizer.defaults.${k}`,
        `Optimizer '${name}': '${k}' is reserved: in --optimizers it sets the learning-rate schedule (${SCHEDULE_KEYS.join(', ')}). Choose another name.`,
      );
    if (typeof v !== 'number' && typeof v !== 'boolean')
      return bad(`optimizer.defaults.${k}`, `Optimizer '${name}': default ${k}=${String(v)} must be a number or a boolean.`);
  }
  const sources: unknown = def.sources ?? {};
  if (!isRecord(sources)) return bad('optimizer.sources', `Optimizer '${name}': sources must be an object { param: string }.`);
  for (const [k, s] of Object.entries(sources)) {
    if (!(k in def.defaults))
      return bad(`optimizer.sources.${k}`, `Optimizer '${name}': sources names '${k}', which has no default. Add it to defaults or remove it.`);
    if (typeof s !== 'string' || s.trim() === '')
      return bad(`optimizer.sources.${k}`, `Optimizer '${name}': the source of ${k} must be a non-empty string.`);
  }
  return pipe(
    decideKinds(def),
    E.flatMap((kinds) =>
      pipe(
        Object.entries(def.defaults),
        E.traverseArray(([k, v]) =>
          pipe(
            checkParam(name, k, kinds[k]!, v, `optimizer.defaults.${k}`),
            E.bimap(
              (e) => invalidConfig({ path: `optimizer.defaults.${k}`, message: `${e.message} Fix the default (or its range in ranges).` }),
              (value) => [k, value] as const,
            ),
          ),
        ),
        E.map((checked) => ({ def, defaults: Object.fromEntries(checked), kinds })),
      ),
    ),
  );
};

/**
 * `into` with a user optimizer added, after checking its name, that every default lies in its range and
 * passes `validate`, and that `create(defaults)` builds a tf.Optimizer (built once, then disposed).
 * Refuses a built-in's name, a group's ('all', 'study', 'modern'), a name that is taken, and a
 * malformed definition.
 */
const withChecked = (into: ReadonlyMap<string, Registered>, def: OptimizerDef): E.Either<InvalidConfig, ReadonlyMap<string, Registered>> =>
  pipe(
    check(def, into),
    E.tap((r) =>
      pipe(
        runValidate(def, r.defaults, 'optimizer.defaults'),
        E.mapLeft((e) => invalidConfig({ path: 'optimizer.defaults', message: `${e.message} Fix the defaults or validate().` })),
      ),
    ),
    E.tap((r) => E.map((built: tf.Optimizer) => built.dispose())(build(def, { ...r.defaults }))),
    E.map((r) => new Map([...into, [def.name, r]])),
  );
