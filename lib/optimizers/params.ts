import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, type OptbenchError } from '../errors.js';

export const OPTIMIZER_NAMES = ['sgd', 'rmsprop', 'adagrad', 'adadelta', 'adam', 'adamax', 'nadam'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export type ParamValue = number | boolean;

/** What values a hyperparameter accepts. The ranges are those the update rules are defined for. */
type Kind = 'rate' | 'decay' | 'nonNegative' | 'flag';

const KINDS: Record<string, Kind> = {
  lr: 'rate',
  beta1: 'decay',
  beta2: 'decay',
  rho: 'decay',
  momentum: 'decay',
  eps: 'nonNegative',
  initialAccumulator: 'nonNegative',
  scheduleDecay: 'nonNegative',
  nesterov: 'flag',
  centered: 'flag',
};

const RANGE: Record<Kind, string> = {
  rate: 'a finite number > 0',
  decay: 'a number in [0, 1)',
  nonNegative: 'a finite number >= 0',
  flag: 'true or false (or 1 / 0)',
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
};
const OPTIMIZER_ALIASES: Partial<Record<OptimizerName, Record<string, string>>> = { rmsprop: { alpha: 'rho' } };

export const canonicalParam = (optimizer: OptimizerName, key: string): string =>
  OPTIMIZER_ALIASES[optimizer]?.[key] ?? ALIASES[key] ?? key;

export const rangeOf = (param: string): string => RANGE[KINDS[param] ?? 'rate'];

export const isFlag = (param: string): boolean => KINDS[param] === 'flag';

/** Checks one value against its hyperparameter's range; booleans are stored as booleans. */
export const validateParam = (
  optimizer: OptimizerName,
  param: string,
  value: unknown,
  path: string,
): E.Either<OptbenchError, ParamValue> => {
  const kind = KINDS[param];
  const bad = (): E.Either<OptbenchError, ParamValue> =>
    E.left(
      invalidConfig({
        path,
        message: `${optimizer} ${param}=${String(value)} is out of range: ${param} must be ${RANGE[kind ?? 'rate']}.`,
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
    default:
      return value > 0 ? E.right(value) : bad();
  }
};
