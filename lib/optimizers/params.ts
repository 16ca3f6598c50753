import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, type OptbenchError } from '../errors.js';
import { isOneOf } from '../one-of.js';

/** The study's seven optimizers, in its tables' order. */
export const STUDY_OPTIMIZER_NAMES = ['sgd', 'rmsprop', 'adagrad', 'adadelta', 'adam', 'adamax', 'nadam'] as const;
/** The built-ins beyond the study (issue 29): today's optimizers, each with its paper and reference implementation. */
export const MODERN_OPTIMIZER_NAMES = ['adamw', 'radam', 'lion', 'adabelief', 'adamw-schedulefree', 'muon'] as const;
/** Every built-in optimizer: the study's seven, then the modern ones. */
export const OPTIMIZER_NAMES = [...STUDY_OPTIMIZER_NAMES, ...MODERN_OPTIMIZER_NAMES] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];
export type StudyOptimizerName = (typeof STUDY_OPTIMIZER_NAMES)[number];
export type ModernOptimizerName = (typeof MODERN_OPTIMIZER_NAMES)[number];
/** Whether a (lower-case) name is a built-in optimizer. */
export const isOptimizerName = isOneOf(OPTIMIZER_NAMES);
/** Whether a (lower-case) name is one of the study's seven. */
export const isStudyOptimizerName = isOneOf(STUDY_OPTIMIZER_NAMES);

export type ParamValue = number | boolean;

/**
 * What values a hyperparameter accepts. The ranges are those the update rules are defined for; 'finite'
 * (any finite number) is for registered optimizers' hyperparameters that may be negative; 'count' is a
 * whole number >= 1 (Muon's Newton-Schulz steps).
 */
export const PARAM_KINDS = ['rate', 'decay', 'nonNegative', 'flag', 'finite', 'positive', 'count'] as const;
export type ParamKind = (typeof PARAM_KINDS)[number];

const KINDS: Record<string, ParamKind> = {
  lr: 'rate',
  beta1: 'decay',
  beta2: 'decay',
  rho: 'decay',
  momentum: 'decay',
  eps: 'positive',
  initialAccumulator: 'nonNegative',
  scheduleDecay: 'nonNegative',
  nesterov: 'flag',
  centered: 'flag',
  weightDecay: 'nonNegative',
  rectify: 'flag',
  nsSteps: 'count',
  adamLr: 'rate',
  r: 'nonNegative',
  weightLrPower: 'nonNegative',
};

const RANGE: Record<ParamKind, string> = {
  rate: 'a finite number > 0',
  positive: 'a finite number > 0',
  decay: 'a number in [0, 1)',
  nonNegative: 'a finite number >= 0',
  flag: 'true or false (or 1 / 0)',
  finite: 'a finite number',
  count: 'a whole number >= 1',
};

/** Why a range is what it is, where the reason is not obvious: said with the refusal. */
const WHY: Record<string, string> = {
  eps: 'the update divides by a running average of gradients plus eps, and that average is 0 for a weight whose gradients have been 0 so far: eps = 0 makes 0/0 = NaN',
};

/**
 * Other libraries' spellings of the same hyperparameters, so `adam:learning_rate=1e-3` or
 * `rmsprop:alpha=0.99` (PyTorch's name for rho) mean what a user of those libraries expects.
 * Overrides are canonicalised before they reach a RunSpec, so one run has one id however it was spelled.
 */
const ALIASES: Record<string, string> = {
  learning_rate: 'lr',
  learningRate: 'lr',
  epsilon: 'eps',
  beta_1: 'beta1',
  beta_2: 'beta2',
  initial_accumulator_value: 'initialAccumulator',
  initialAccumulatorValue: 'initialAccumulator',
  schedule_decay: 'scheduleDecay',
  momentum_decay: 'scheduleDecay',
  momentumDecay: 'scheduleDecay',
  weight_decay: 'weightDecay',
  ns_steps: 'nsSteps',
  weight_lr_power: 'weightLrPower',
};
const OPTIMIZER_ALIASES: Partial<Record<OptimizerName, Record<string, string>>> = { rmsprop: { alpha: 'rho' } };

export const canonicalParam = (optimizer: string, key: string): string =>
  OPTIMIZER_ALIASES[optimizer as OptimizerName]?.[key] ?? ALIASES[key] ?? key;

/** The range of a hyperparameter name the built-ins share, if it is one of theirs. */
export const knownKindOf = (param: string): ParamKind | undefined => KINDS[param];

export const rangeOf = (param: string, kind: ParamKind = KINDS[param] ?? 'rate'): string => RANGE[kind];

/** Checks one value against a range; booleans are stored as booleans. `optimizer` only labels the message. */
export const checkParam = (
  optimizer: string,
  param: string,
  kind: ParamKind,
  value: unknown,
  path: string,
): E.Either<OptbenchError, ParamValue> => {
  const bad = (): E.Either<OptbenchError, ParamValue> =>
    E.left(
      invalidConfig({
        path,
        message: `${optimizer} ${param}=${String(value)} is out of range: ${param} must be ${RANGE[kind]}${WHY[param] !== undefined && kind === KINDS[param] ? ` (${WHY[param]})` : ''}.`,
      }),
    );
  if (kind === 'flag') {
    if (typeof value === 'boolean') return E.right(value);
    if (value === 0 || value === 1) return E.right(value === 1);
    return bad();
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return bad();
  switch (kind) {
    case 'decay':
      return value >= 0 && value < 1 ? E.right(value) : bad();
    case 'nonNegative':
      return value >= 0 ? E.right(value) : bad();
    case 'finite':
      return E.right(value);
    case 'count':
      return Number.isInteger(value) && value >= 1 ? E.right(value) : bad();
    case 'rate':
    case 'positive':
      return value > 0 ? E.right(value) : bad();
  }
};

/** Checks one value of a built-in's hyperparameter; a name without a known range is checked as a rate. */
export const validateParam = (
  optimizer: OptimizerName,
  param: string,
  value: unknown,
  path: string,
): E.Either<OptbenchError, ParamValue> => checkParam(optimizer, param, KINDS[param] ?? 'rate', value, path);
