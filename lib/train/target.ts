import * as t from 'io-ts';
import { Finite, matching, strict } from '../config/codecs.js';
import { PositiveInt } from '../config/numbers.js';
import type { EpochEnded, Metrics } from './events.js';

/**
 * A run's target: the held-out metric it must reach (AlgoPerf's "validation target"), judged after each
 * epoch on the images the spec holds out (`holdout`), never on the test set. Accuracy is reached when it
 * is at least the goal, a loss when it is at most the goal.
 */
export const TargetMetric = t.keyof({ accuracy: null, loss: null }, "'accuracy' or 'loss'");
export type TargetMetric = t.TypeOf<typeof TargetMetric>;

const Goal = t.refinement(Finite, (n) => n > 0, 'a positive finite number');

export const Target = t.refinement(
  strict(t.type({ metric: TargetMetric, goal: Goal }), 'a target'),
  (x) => x.metric !== 'accuracy' || x.goal <= 1,
  'a target (an accuracy goal is a fraction in (0, 1])',
);
export type Target = t.TypeOf<typeof Target>;

/** Targets by model name: what `reachTarget` looks for in each run (a model without one is not judged). */
export const Targets = t.record(t.string, Target, 'targets by model');
export type Targets = t.TypeOf<typeof Targets>;

/**
 * When a run first reached its target: the epoch after which it was judged, the step that ended that
 * epoch, and the training seconds spent up to it (evaluation excluded, as AlgoPerf's untimed evaluations).
 * `value` is the held-out metric that met `goal`.
 */
export const TargetHit = t.readonly(
  t.type({ metric: TargetMetric, goal: t.number, value: t.number, epoch: PositiveInt, step: PositiveInt, seconds: t.number }),
);
export type TargetHit = t.TypeOf<typeof TargetHit>;

/** `reachTarget`'s event: emitted right after the EpochEnded on which a run first met its target. */
export const TargetReached = t.readonly(
  t.intersection([t.type({ type: t.literal('TargetReached'), runId: matching('a run id (16 hex digits)', /^[0-9a-f]{16}$/) }), TargetHit]),
);
export type TargetReached = t.TypeOf<typeof TargetReached>;

export const isTargetReached = (e: { readonly type: string }): e is TargetReached => e.type === 'TargetReached';

/** The hit an event records, without its type and run id. */
export const hitOf = ({ metric, goal, value, epoch, step, seconds }: TargetHit): TargetHit => ({ metric, goal, value, epoch, step, seconds });

/** The metric a target judges, from held-out metrics (null: the model has no accuracy, as a VAE). */
export const judged = (target: Target, m: Metrics): number | null => (target.metric === 'accuracy' ? m.accuracy : m.loss);

/** Whether held-out metrics meet the target. A NaN loss meets nothing. */
export const meets = (target: Target, m: Metrics): boolean => {
  const v = judged(target, m);
  return v !== null && (target.metric === 'accuracy' ? v >= target.goal : v <= target.goal);
};

/**
 * An epoch's metrics on held-out images: those measured beside the test set (`validation`, evaluate's
 * `heldOut`), or the epoch's evaluation itself when it was on the validation split (a sweep's trial).
 * Null when the epoch was judged on the test set only, or not evaluated: a target is never judged there.
 */
export const heldOutMetrics = (e: Pick<EpochEnded, 'test' | 'evaluation' | 'validation'>): Metrics | null =>
  e.validation ?? (e.evaluation?.split === 'validation' ? e.test : null);

/** `accuracy 0.88`, `loss 30`: how messages and tables name a target. */
export const targetText = (target: Target): string => `${target.metric} ${target.metric === 'accuracy' ? '≥' : '≤'} ${target.goal}`;

/** What `firstReached` reads of an epoch: its number, its training time and its held-out metrics. */
export interface JudgedEpoch {
  readonly epoch: number;
  readonly trainMs: number;
  readonly heldOut: Metrics | null;
}

/**
 * The first epoch (in order of epoch number) whose held-out metrics meet `target`, with the training
 * seconds of every epoch up to and including it and the value that met the goal; null if none did. The
 * one rule of "reaching a target", shared by `reachTarget` (live) and the report (from stored epochs).
 */
export const firstReached = (
  target: Target,
  epochs: readonly JudgedEpoch[],
): { readonly epoch: number; readonly seconds: number; readonly value: number } | null => {
  let ms = 0;
  for (const e of [...epochs].sort((a, b) => a.epoch - b.epoch)) {
    ms += e.trainMs;
    if (e.heldOut !== null && meets(target, e.heldOut)) return { epoch: e.epoch, seconds: ms / 1000, value: judged(target, e.heldOut)! };
  }
  return null;
};
