/**
 * A learning-rate schedule as a run's spec holds it: which schedule, and its warm-up and step decay in
 * the units the user gave (steps or epochs). It is part of the optimizer's choice, so it enters the run's
 * id, the store and the report's labels. The rate it gives at each step is lib/optimizers/schedule.ts.
 *
 * One run has one spec however its schedule was spelled: `checkSchedule` gives the canonical form, which
 * leaves out every default (a step decay's gamma of 0.1) and the whole schedule when it is the study's
 * constant rate without warm-up, so that a run without a schedule keeps the id it had before schedules.
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, type InvalidConfig } from '../errors.js';
import { strict } from './codecs.js';
import { PositiveInt } from './numbers.js';

export const SCHEDULE_KINDS = ['constant', 'cosine', 'linear', 'step'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

/** A number strictly between 0 and 1 (a step decay's factor). */
const OpenUnit = new t.Type<number, number, unknown>(
  'a number between 0 and 1 (exclusive)',
  (u): u is number => typeof u === 'number' && u > 0 && u < 1,
  (u, c) => (typeof u === 'number' && u > 0 && u < 1 ? t.success(u) : t.failure(u, c)),
  (n) => n,
);

export const Schedule = strict(t.intersection([
  t.type({ kind: t.keyof({ constant: null, cosine: null, linear: null, step: null }, 'constant | cosine | linear | step') }),
  t.partial({
    /** Linear warm-up over the first N steps (or epochs): the rate is lr * t / N at step t <= N. */
    warmupSteps: PositiveInt,
    warmupEpochs: PositiveInt,
    /** `step`: the rate is multiplied by stepGamma every N steps (or epochs) after the warm-up. */
    stepEverySteps: PositiveInt,
    stepEveryEpochs: PositiveInt,
    stepGamma: OpenUnit,
  }),
]), 'a schedule');
export type Schedule = t.TypeOf<typeof Schedule>;

/** torch.optim.lr_scheduler.StepLR's default gamma: left out of a canonical spec. */
export const DEFAULT_STEP_GAMMA = 0.1;

/** The keys of `--optimizers adam:schedule=cosine,warmup=500` that set the schedule, not a hyperparameter. */
export const SCHEDULE_KEYS = ['schedule', 'warmup', 'stepEvery', 'stepGamma'] as const;
export type ScheduleKey = (typeof SCHEDULE_KEYS)[number];
export const isScheduleKey = (k: string): k is ScheduleKey => (SCHEDULE_KEYS as readonly string[]).includes(k);

const bad = (path: string, message: string): E.Either<InvalidConfig, never> => E.left(invalidConfig({ path, message }));

/**
 * Checks what the codec cannot (one unit per span; step-decay settings only for `step`) and gives the
 * canonical form: undefined for the constant rate without warm-up, defaults left out.
 */
export const checkSchedule = (s: Schedule, path = 'optimizer.schedule'): E.Either<InvalidConfig, Schedule | undefined> => {
  if (s.warmupSteps !== undefined && s.warmupEpochs !== undefined)
    return bad(`${path}.warmupEpochs`, 'A warm-up is given in steps or in epochs, not both.');
  if (s.stepEverySteps !== undefined && s.stepEveryEpochs !== undefined)
    return bad(`${path}.stepEveryEpochs`, 'A step decay happens every N steps or every N epochs, not both.');
  const stepKeys = (['stepEverySteps', 'stepEveryEpochs', 'stepGamma'] as const).filter((k) => s[k] !== undefined);
  if (s.kind !== 'step' && stepKeys.length > 0)
    return bad(`${path}.${stepKeys[0]}`, `${stepKeys[0]} belongs to the 'step' schedule, not '${s.kind}'.`);
  const canonical: Schedule = {
    kind: s.kind,
    ...(s.warmupSteps !== undefined ? { warmupSteps: s.warmupSteps } : {}),
    ...(s.warmupEpochs !== undefined ? { warmupEpochs: s.warmupEpochs } : {}),
    ...(s.stepEverySteps !== undefined ? { stepEverySteps: s.stepEverySteps } : {}),
    ...(s.stepEveryEpochs !== undefined ? { stepEveryEpochs: s.stepEveryEpochs } : {}),
    ...(s.stepGamma !== undefined && s.stepGamma !== DEFAULT_STEP_GAMMA ? { stepGamma: s.stepGamma } : {}),
  };
  const constant = canonical.kind === 'constant' && canonical.warmupSteps === undefined && canonical.warmupEpochs === undefined;
  return E.right(constant ? undefined : canonical);
};

/** The canonical form of a schedule that already passed checkSchedule (what a run's id hashes). */
export const canonicalSchedule = (s: Schedule | undefined): Schedule | undefined => {
  if (s === undefined) return undefined;
  const c = checkSchedule(s);
  return E.isRight(c) ? c.right : s;
};

const span = (steps: number | undefined, epochs: number | undefined): string | undefined =>
  steps !== undefined ? String(steps) : epochs !== undefined ? `${epochs}epochs` : undefined;

/**
 * The schedule in the --optimizers grammar: `schedule=cosine,warmup=500`, `warmup=2epochs` (a constant
 * rate after a warm-up), `schedule=step,stepEvery=10epochs,stepGamma=0.5`; '' for the constant rate.
 */
export const scheduleText = (s: Schedule | undefined): string => {
  const c = canonicalSchedule(s);
  if (c === undefined) return '';
  const warmup = span(c.warmupSteps, c.warmupEpochs);
  const every = span(c.stepEverySteps, c.stepEveryEpochs);
  return [
    ...(c.kind !== 'constant' ? [`schedule=${c.kind}`] : []),
    ...(warmup !== undefined ? [`warmup=${warmup}`] : []),
    ...(every !== undefined ? [`stepEvery=${every}`] : []),
    ...(c.stepGamma !== undefined ? [`stepGamma=${c.stepGamma}`] : []),
  ].join(',');
};

const SPAN = /^(\d+)\s*(steps?|epochs?)?$/i;

/**
 * Reads one schedule key of the --optimizers grammar into `into` (a draft, checked as a whole with
 * checkSchedule once its item is read). Left: what is wrong with the value, said in the grammar's terms.
 */
export const readScheduleKey = (
  into: Partial<Schedule>,
  key: ScheduleKey,
  raw: string,
): E.Either<string, void> => {
  const value = raw.trim();
  switch (key) {
    case 'schedule': {
      const kind = SCHEDULE_KINDS.find((k) => k === value.toLowerCase());
      if (kind === undefined) return E.left(`schedule must be one of ${SCHEDULE_KINDS.join(', ')}, got '${value}'`);
      into.kind = kind;
      return E.right(undefined);
    }
    case 'warmup':
    case 'stepEvery': {
      const m = SPAN.exec(value);
      const n = m === null ? NaN : Number(m[1]);
      if (m === null || !Number.isSafeInteger(n))
        return E.left(`${key} must be a whole number of steps (${key}=500) or epochs (${key}=2epochs), got '${value}'`);
      const epochs = (m[2] ?? 'steps').toLowerCase().startsWith('epoch');
      if (n === 0 && key === 'stepEvery') return E.left(`stepEvery must be at least 1, got '${value}'`);
      // The key replaces what `into` held for it in either unit (an item's warmup over --schedule's); warmup=0 is none.
      const [steps, inEpochs] = key === 'warmup' ? (['warmupSteps', 'warmupEpochs'] as const) : (['stepEverySteps', 'stepEveryEpochs'] as const);
      delete into[steps];
      delete into[inEpochs];
      if (n > 0) into[epochs ? inEpochs : steps] = n;
      return E.right(undefined);
    }
    case 'stepGamma': {
      const n = Number(value);
      if (value === '' || !(n > 0 && n < 1)) return E.left(`stepGamma must be a number between 0 and 1 (exclusive), got '${value}'`);
      into.stepGamma = n;
      return E.right(undefined);
    }
  }
};
