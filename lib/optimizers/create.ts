import type * as tf from '@tensorflow/tfjs';
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { sequenceS } from 'fp-ts/lib/Apply.js';
import { PositiveInt } from '../config/numbers.js';
import { checkSchedule, Schedule } from '../config/schedule.js';
import { decodeWith } from '../config/spec.js';
import { invalidConfig, unknown, type OptbenchError } from '../errors.js';
import { isOneOf } from '../one-of.js';
import { isOptimizerName, type ParamValue } from './params.js';
import { registeredRule, type RegisteredRuleId, type RuleId } from './formulas.js';
import { DEFAULT_PRESET, PRESET_NAMES, PRESETS, type PresetName } from './presets.js';
import {
  canonicalParamOf,
  checkRegisteredParams,
  createRegistered,
  optimizerNames,
  registeredDefaults,
  validateParamOf,
  BUILT_IN_OPTIMIZERS,
  type OptimizerRegistry,
} from './registry.js';
import {
  AdadeltaOptimizer,
  AdagradOptimizer,
  AdamaxOptimizer,
  AdamOptimizer,
  NadamOptimizer,
  RmspropOptimizer,
  SgdOptimizer,
} from './rules.js';
import { AdabeliefOptimizer, AdamwOptimizer, LionOptimizer, RadamOptimizer } from './modern-rules.js';
import { MuonOptimizer } from './muon.js';
import { ScheduleFreeAdamwOptimizer } from './schedule-free.js';
import { resolveSchedule, type LrSchedule, type TrainingLength } from './schedule.js';

export interface ResolvedOptimizer {
  /** A built-in's name (OPTIMIZER_NAMES) or a registered optimizer's. */
  readonly name: string;
  readonly preset: PresetName;
  /** A built-in rule id, or `registered:<name>` for a registered optimizer. */
  readonly rule: RuleId | RegisteredRuleId;
  /** Every hyperparameter's effective value: the preset's default unless overridden. */
  readonly params: Record<string, ParamValue>;
  /** The learning-rate schedule in its canonical form; absent for the constant rate (lib/config/schedule.ts). */
  readonly schedule?: Schedule;
}

export interface OptimizerChoiceInput {
  readonly name: string;
  readonly preset?: string;
  readonly overrides?: Readonly<Record<string, ParamValue>>;
  readonly schedule?: Schedule;
}

/** Which schedules an optimizer takes: none for a registered one (its create() builds it), a warm-up only for Schedule-Free. */
const checkScheduleFor = (name: string, builtIn: boolean, schedule: Schedule | undefined): E.Either<OptbenchError, Schedule | undefined> =>
  schedule === undefined
    ? E.right(undefined)
    : pipe(
        checkSchedule(schedule),
        E.flatMap((checked): E.Either<OptbenchError, Schedule | undefined> => {
          if (checked === undefined) return E.right(undefined);
          if (!builtIn)
            return E.left(
              invalidConfig({
                path: 'optimizer.schedule',
                message: `Learning-rate schedules apply to the built-in optimizers; '${name}' is registered, and its create() builds it with a constant rate.`,
              }),
            );
          if (name === 'adamw-schedulefree' && checked.kind !== 'constant')
            return E.left(
              invalidConfig({
                path: 'optimizer.schedule.kind',
                message: `Schedule-Free AdamW replaces a decaying schedule by its average, so it takes no '${checked.kind}' schedule: give it only a warm-up (warmup=N).`,
              }),
            );
          return E.right(checked);
        }),
      );

const isPresetName = isOneOf(PRESET_NAMES);

/** The effective hyperparameters of a choice (what run specs and reports show), validated. */
export const resolveOptimizer = (choice: OptimizerChoiceInput, reg: OptimizerRegistry = BUILT_IN_OPTIMIZERS): E.Either<OptbenchError, ResolvedOptimizer> => {
  const name = choice.name.toLowerCase();
  // A registered optimizer has one set of defaults, the same under every preset.
  const builtIn = isOptimizerName(name);
  const registered = builtIn ? undefined : registeredDefaults(name, reg);
  if (!builtIn && registered === undefined) return E.left(unknown('optimizer', choice.name, optimizerNames(reg)));
  const preset = choice.preset ?? DEFAULT_PRESET;
  if (!isPresetName(preset)) return E.left(unknown('preset', preset, PRESET_NAMES));
  const entry = builtIn ? PRESETS[preset][name] : undefined;
  const defaults: Record<string, ParamValue> =
    entry !== undefined ? Object.fromEntries(Object.entries(entry.params).map(([k, [v]]) => [k, v])) : { ...registered };
  /** One override, under its canonical name, checked against its hyperparameter's range. */
  const override = ([rawKey, value]: readonly [string, ParamValue]): E.Either<OptbenchError, readonly [string, ParamValue]> => {
    const key = canonicalParamOf(name, rawKey, reg);
    if (!(key in defaults)) {
      const err = unknown('hyperparameter', rawKey, Object.keys(defaults));
      const hint = err.suggestion !== undefined ? ` Did you mean '${err.suggestion}'?` : '';
      const where = entry !== undefined ? ` under preset '${preset}'` : '';
      return E.left({ ...err, message: `${name} has no hyperparameter '${rawKey}'${where}.${hint} Valid: ${Object.keys(defaults).join(', ')}.` });
    }
    return E.map((v: ParamValue) => [key, v] as const)(validateParamOf(name, key, value, `optimizer.overrides.${rawKey}`, reg));
  };
  return pipe(
    E.traverseArray(override)(Object.entries(choice.overrides ?? {})),
    E.map((given): Record<string, ParamValue> => ({ ...defaults, ...Object.fromEntries(given) })),
    // A registered optimizer's own validate() judges its values as a whole.
    E.tap((params) => (entry === undefined ? checkRegisteredParams(name, params, 'optimizer.overrides', reg) : E.right(undefined))),
    E.bindTo('params'),
    E.bind('schedule', () => checkScheduleFor(name, builtIn, choice.schedule)),
    E.map(({ params, schedule }) => ({
      name,
      preset,
      rule: entry?.rule ?? registeredRule(name),
      params,
      ...(schedule !== undefined ? { schedule } : {}),
    })),
  );
};

const num = (p: Record<string, ParamValue>, k: string, fallback = 0): number => {
  const v = p[k];
  return typeof v === 'number' ? v : fallback;
};
const flag = (p: Record<string, ParamValue>, k: string): boolean => p[k] === true;

/**
 * Builds the optimizer a resolved choice describes, its schedule resolved for a run of `length` (which a
 * schedule that decays, or counts in epochs, needs). For a registered optimizer this runs the user's
 * `create` (from `reg`, the registry it was resolved in); a create that fails, or a schedule that does not
 * fit the run, is a Left.
 */
export const instantiate = (r: ResolvedOptimizer, length?: TrainingLength, reg: OptimizerRegistry = BUILT_IN_OPTIMIZERS): E.Either<OptbenchError, tf.Optimizer> =>
  r.rule.startsWith('registered:')
    ? createRegistered(r.name, { ...r.params }, reg)
    : pipe(
        resolveSchedule(r.schedule, length),
        // Only a schedule that changes the rate enters a rule's config, so that the study's configs are as before.
        E.map((schedule) => builtInRule(r, schedule !== undefined ? { schedule } : {})),
      );

/** A built-in rule's optimizer from its resolved hyperparameters (and schedule, when it has one). */
const builtInRule = (r: ResolvedOptimizer, s: { schedule?: LrSchedule }): tf.Optimizer => {
  const p = r.params;
  switch (r.rule as RuleId) {
    case 'sgd':
    case 'sgd/torch':
      return new SgdOptimizer({
        lr: num(p, 'lr'),
        momentum: num(p, 'momentum'),
        nesterov: flag(p, 'nesterov'),
        ...(r.rule === 'sgd/torch' ? { variant: 'torch' as const } : {}),
        ...s,
      });
    case 'rmsprop/tfkeras':
    case 'rmsprop/torch':
      return new RmspropOptimizer({
        lr: num(p, 'lr'),
        rho: num(p, 'rho'),
        eps: num(p, 'eps'),
        momentum: num(p, 'momentum'),
        centered: flag(p, 'centered'),
        variant: r.rule === 'rmsprop/torch' ? 'torch' : 'tfkeras',
        ...s,
      });
    case 'adagrad':
      return new AdagradOptimizer({
        lr: num(p, 'lr'),
        initialAccumulator: num(p, 'initialAccumulator'),
        eps: num(p, 'eps'),
        ...s,
      });
    case 'adadelta':
      return new AdadeltaOptimizer({ lr: num(p, 'lr'), rho: num(p, 'rho'), eps: num(p, 'eps'), ...s });
    case 'adam/epsilon-hat':
    case 'adam/bias-corrected':
      return new AdamOptimizer({
        lr: num(p, 'lr'),
        beta1: num(p, 'beta1'),
        beta2: num(p, 'beta2'),
        eps: num(p, 'eps'),
        variant: r.rule === 'adam/epsilon-hat' ? 'epsilon-hat' : 'bias-corrected',
        ...s,
      });
    case 'adamax':
    case 'adamax/torch':
      return new AdamaxOptimizer({
        lr: num(p, 'lr'),
        beta1: num(p, 'beta1'),
        beta2: num(p, 'beta2'),
        eps: num(p, 'eps'),
        variant: r.rule === 'adamax/torch' ? 'torch' : 'tfkeras',
        ...s,
      });
    case 'nadam':
      return new NadamOptimizer({
        lr: num(p, 'lr'),
        beta1: num(p, 'beta1'),
        beta2: num(p, 'beta2'),
        eps: num(p, 'eps'),
        scheduleDecay: num(p, 'scheduleDecay', 0.004),
        ...s,
      });
    case 'adamw':
      return new AdamwOptimizer({ ...adamLike(p), weightDecay: num(p, 'weightDecay'), ...s });
    case 'radam':
      return new RadamOptimizer({ ...adamLike(p), weightDecay: num(p, 'weightDecay'), ...s });
    case 'lion':
      return new LionOptimizer({
        lr: num(p, 'lr'),
        beta1: num(p, 'beta1'),
        beta2: num(p, 'beta2'),
        weightDecay: num(p, 'weightDecay'),
        ...s,
      });
    case 'adabelief':
      return new AdabeliefOptimizer({ ...adamLike(p), weightDecay: num(p, 'weightDecay'), rectify: flag(p, 'rectify'), ...s });
    case 'adamw-schedulefree':
    case 'adamw-schedulefree/paper':
      return new ScheduleFreeAdamwOptimizer({
        ...adamLike(p),
        weightDecay: num(p, 'weightDecay'),
        r: num(p, 'r'),
        weightLrPower: num(p, 'weightLrPower'),
        variant: r.rule === 'adamw-schedulefree/paper' ? 'paper' : 'reference',
        ...s,
      });
    case 'muon':
      return new MuonOptimizer({
        lr: num(p, 'lr'),
        momentum: num(p, 'momentum'),
        nesterov: flag(p, 'nesterov'),
        nsSteps: num(p, 'nsSteps'),
        weightDecay: num(p, 'weightDecay'),
        adamLr: num(p, 'adamLr'),
        beta1: num(p, 'beta1'),
        beta2: num(p, 'beta2'),
        eps: num(p, 'eps'),
        ...s,
      });
  }
};

const adamLike = (p: Record<string, ParamValue>) => ({ lr: num(p, 'lr'), beta1: num(p, 'beta1'), beta2: num(p, 'beta2'), eps: num(p, 'eps') });

/** What `createOptimizer` accepts besides the name: a preset, and hyperparameter overrides (io-ts). */
const Preset = t.union([t.string, t.undefined], 'a preset name');
const Overrides = t.record(t.string, t.union([t.number, t.boolean, t.undefined], 'a number or true/false'));

/**
 * The learning-rate schedule of an optimizer and the length of the run it serves (the schedule needs it
 * when it decays, or counts in epochs): `{ schedule: { kind: 'cosine', warmupSteps: 500 }, epochs: 10,
 * stepsPerEpoch: 300 }`. runFit gives the spec's schedule and epochs, and ceil(training images / batch size).
 */
export const OptimizerRun = t.partial({ schedule: Schedule, epochs: PositiveInt, stepsPerEpoch: PositiveInt });
export type OptimizerRun = t.TypeOf<typeof OptimizerRun>;

/**
 * `createOptimizer('adam', { preset: 'torch', lr: 3e-4 })`. Every key of `opts` but `preset` is a
 * hyperparameter override. The options are decoded first: a value of the wrong type is an InvalidConfig
 * naming it (`optimizer.overrides.lr`), then each value is checked against its hyperparameter's range.
 * `run` gives a learning-rate schedule and the run's length (see OptimizerRun).
 */
export const createOptimizer = (
  name: string,
  opts: { readonly preset?: string; readonly [override: string]: ParamValue | string | undefined } = {},
  run: OptimizerRun = {},
  reg: OptimizerRegistry = BUILT_IN_OPTIMIZERS,
): E.Either<OptbenchError, tf.Optimizer> => {
  const { preset, ...rest } = opts;
  return pipe(
    sequenceS(E.Apply)({
      preset: decodeWith(Preset, 'optimizer', 'optimizer.preset')(preset),
      overrides: decodeWith(Overrides, 'optimizer overrides', 'optimizer.overrides')(rest),
      run: decodeWith(OptimizerRun, 'optimizer run', 'optimizer')(run),
    }),
    E.flatMap(({ preset: p, overrides: given, run: { schedule, epochs, stepsPerEpoch } }) => {
      const overrides = Object.fromEntries(Object.entries(given).filter((kv): kv is [string, ParamValue] => kv[1] !== undefined));
      const length = epochs !== undefined && stepsPerEpoch !== undefined ? { epochs, stepsPerEpoch } : undefined;
      return pipe(
        resolveOptimizer({ name, ...(p !== undefined ? { preset: p } : {}), overrides, ...(schedule !== undefined ? { schedule } : {}) }, reg),
        E.flatMap((resolved) => instantiate(resolved, length, reg)),
      );
    }),
  );
};
