/**
 * The learning-rate schedule a rule computes with: a spec's schedule (lib/config/schedule.ts) resolved
 * into steps for one run, and the factor that multiplies every learning rate of the rule at step t.
 *
 * A schedule needs the run's length: `resolveSchedule` takes it (epochs and steps per epoch) when the
 * optimizer is created (createOptimizer's third argument; runFit passes the spec's epochs and its
 * steps per epoch, ceil(training images / batch size)), because the optimizer itself sees only steps.
 *
 * With t = 1, 2, ... the step, W the warm-up steps, T the run's steps and k = min(t, T) - W - 1 the steps
 * taken since the warm-up (D = T - W of them in all):
 *   warm-up (t <= W)  t / W                          (schedule_free's `(k+1)/warmup_steps`, never a step of 0)
 *   constant          1
 *   linear            (D - k) / D                    (HF transformers get_linear_schedule_with_warmup)
 *   cosine            (1 + cos(pi k / D)) / 2        (SGDR without restarts, eta_min 0; HF get_cosine_schedule_with_warmup)
 *   step              stepGamma^floor(k / stepEvery) (torch.optim.lr_scheduler.StepLR, counted after the warm-up)
 * so the first step after the warm-up has the full rate and the last a small positive one (1/D for
 * linear). Past T (a loop of one's own that runs on) the rate stays at step T's.
 */
import * as E from 'fp-ts/lib/Either.js';
import { DEFAULT_STEP_GAMMA, type Schedule, type ScheduleKind } from '../config/schedule.js';
import { invalidConfig, type InvalidConfig } from '../errors.js';

/** A schedule in steps, plain data (it is part of a rule's config, which TF.js serialises). */
export interface LrSchedule {
  readonly kind: ScheduleKind;
  /** 0: no warm-up. */
  readonly warmupSteps: number;
  /** The run's steps; null when not known, which only a constant rate allows. */
  readonly totalSteps: number | null;
  /** `step`: decay period in steps (after the warm-up). */
  readonly stepEvery: number;
  readonly stepGamma: number;
}

/** How long the run is, for a schedule that decays over it or counts in epochs. */
export interface TrainingLength {
  readonly epochs: number;
  readonly stepsPerEpoch: number;
}

const bad = (path: string, message: string): E.Either<InvalidConfig, never> => E.left(invalidConfig({ path, message }));
const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * A spec's schedule in steps for a run of `length`; undefined for the constant rate without warm-up. The
 * default decay period of `step` is a third of the steps after the warm-up (rounded up), so the rate falls
 * twice, to stepGamma^2 for the last third.
 */
export const resolveSchedule = (
  s: Schedule | undefined,
  length: TrainingLength | undefined,
  path = 'optimizer.schedule',
): E.Either<InvalidConfig, LrSchedule | undefined> => {
  if (s === undefined) return E.right(undefined);
  const needsLength = s.kind !== 'constant' || s.warmupEpochs !== undefined || s.stepEveryEpochs !== undefined;
  if (length === undefined && needsLength)
    return bad(
      path,
      `A ${s.kind} schedule${s.warmupEpochs !== undefined ? ' with a warm-up in epochs' : ''} needs the run's length: ` +
        'give createOptimizer { epochs, stepsPerEpoch } beside the schedule (runFit does).',
    );
  const perEpoch = length?.stepsPerEpoch ?? 0;
  const total = length === undefined ? null : length.epochs * length.stepsPerEpoch;
  const warmup = s.warmupSteps ?? (s.warmupEpochs ?? 0) * perEpoch;
  if (total !== null && warmup >= total)
    return bad(
      `${path}.${s.warmupEpochs !== undefined ? 'warmupEpochs' : 'warmupSteps'}`,
      `The warm-up (${count(warmup, 'step')}) must be shorter than the run (${count(total, 'step')}: ${count(length!.epochs, 'epoch')} of ${perEpoch}).`,
    );
  const rest = total === null ? 0 : total - warmup;
  const every = s.stepEverySteps ?? (s.stepEveryEpochs !== undefined ? s.stepEveryEpochs * perEpoch : Math.max(1, Math.ceil(rest / 3)));
  return E.right({ kind: s.kind, warmupSteps: warmup, totalSteps: total, stepEvery: every, stepGamma: s.stepGamma ?? DEFAULT_STEP_GAMMA });
};

/** The factor of the learning rate at step t (1-based), in float64. */
export const scheduleFactor = (s: LrSchedule, t: number): number => {
  const w = s.warmupSteps;
  if (w > 0 && t <= w) return t / w;
  if (s.kind === 'constant' || s.totalSteps === null) return 1;
  const d = s.totalSteps - w;
  const k = Math.min(t, s.totalSteps) - w - 1;
  switch (s.kind) {
    case 'linear':
      return (d - k) / d;
    case 'cosine':
      return (1 + Math.cos((Math.PI * k) / d)) / 2;
    case 'step':
      return Math.pow(s.stepGamma, Math.floor(k / s.stepEvery));
  }
};
