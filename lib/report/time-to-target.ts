import * as E from 'fp-ts/lib/Either.js';
import type { RunSpec } from '../config/spec.js';
import type { GridRecord, RunRecord } from '../train/record.js';
import { firstReached, Target, type TargetHit } from '../train/target.js';
import { performanceProfile, type PerformanceProfile } from './profile.js';

/** One seed's time to target: `missed` (finished without reaching it) and `failed` count as infinite; `pending` is not known yet. */
export interface SeedTime {
  readonly seed: number;
  readonly runId: string;
  readonly state: 'reached' | 'missed' | 'failed' | 'pending';
  /** Training seconds up to the end of the epoch that met the target (evaluation excluded); null unless reached. */
  readonly seconds: number | null;
  readonly epoch: number | null;
  /** The step that ended that epoch; null when recomputed from the epochs for another target than the run recorded. */
  readonly step: number | null;
}

/** The median over seeds (runs that never reached the target count as Infinity) and the spread of those that did. */
export interface TimeStat {
  readonly median: number;
  readonly min: number | null;
  readonly max: number | null;
}

export interface SeriesTimeToTarget {
  readonly target: Target;
  readonly runs: readonly SeedTime[];
  readonly reached: number;
  readonly n: number;
  readonly seconds: TimeStat;
  readonly epochs: TimeStat;
  /** Some run is still to finish: its seed counts as not reached so far. */
  readonly partial: boolean;
}

/** A model's target as the report judges it, with the images its runs hold out to judge it on. */
export interface Workload {
  readonly model: string;
  readonly target: Target;
  readonly holdout: number | null;
}

export interface TimeToTargetReport {
  readonly workloads: readonly Workload[];
  /** Profiles over the workloads: by training seconds (AlgoPerf's measure) and by epochs (steps, up to a factor shared by a workload). */
  readonly bySeconds: PerformanceProfile;
  readonly byEpochs: PerformanceProfile;
  readonly partial: boolean;
}

/** The median of values that may be Infinity: the middle one, or the mean of the middle two. */
export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const v = [...xs].sort((a, b) => a - b);
  const m = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
};

const timeStat = (values: readonly number[]): TimeStat => {
  const finite = values.filter(Number.isFinite);
  return { median: median(values), min: finite.length > 0 ? Math.min(...finite) : null, max: finite.length > 0 ? Math.max(...finite) : null };
};

const sameTarget = (hit: TargetHit, target: Target): boolean => hit.metric === target.metric && hit.goal === target.goal;

/**
 * The model's target: grid.json's (the command's --target, or the defaults it resolved), else the one its
 * runs recorded reaching; null when neither says (the grid had no target).
 */
export const modelTarget = (model: string, grid: GridRecord | null, records: readonly RunRecord[]): Target | null => {
  const given = grid?.targets?.[model];
  if (given !== undefined) {
    const decoded = Target.decode(given);
    if (E.isRight(decoded)) return decoded.right;
  }
  const hit = records.find((r) => r.spec.model === model && r.reached != null)?.reached;
  return hit != null ? { metric: hit.metric, goal: hit.goal } : null;
};

/**
 * One run's time to `target`: the hit it recorded when it was for this target, else the first epoch its
 * stored held-out metrics meet it (the same rule as reachTarget: firstReached), else missed, failed or pending.
 */
export const seedTime = (spec: RunSpec, record: RunRecord | null, target: Target): SeedTime => {
  const base = { seed: spec.seed, runId: record?.runId ?? '' };
  if (record === null) return { ...base, state: 'pending', seconds: null, epoch: null, step: null };
  const hit = record.reached;
  if (hit != null && sameTarget(hit, target)) return { ...base, state: 'reached', seconds: hit.seconds, epoch: hit.epoch, step: hit.step };
  const again = firstReached(
    target,
    record.epochs.map((e) => ({ epoch: e.epoch, trainMs: e.trainMs, heldOut: e.validation ?? null })),
  );
  if (again !== null) return { ...base, state: 'reached', seconds: again.seconds, epoch: again.epoch, step: null };
  const state = record.status === 'done' ? 'missed' : record.status === 'failed' ? 'failed' : 'pending';
  return { ...base, state, seconds: null, epoch: null, step: null };
};

/** A series' times to target over its seeds (runs in seed order). */
export const seriesTimeToTarget = (runs: readonly { readonly spec: RunSpec; readonly record: RunRecord | null }[], target: Target): SeriesTimeToTarget => {
  const times = runs.map((r) => seedTime(r.spec, r.record, target));
  const of = (f: (s: SeedTime) => number | null) => times.map((s) => f(s) ?? Infinity);
  return {
    target,
    runs: times,
    reached: times.filter((s) => s.state === 'reached').length,
    n: times.length,
    seconds: timeStat(of((s) => s.seconds)),
    epochs: timeStat(of((s) => s.epoch)),
    partial: times.some((s) => s.state === 'pending'),
  };
};

/** What the cross-model part needs of each model: its workload and each series' times. */
export interface ModelTimes {
  readonly workload: Workload;
  readonly series: readonly { readonly label: string; readonly ttt: SeriesTimeToTarget }[];
}

/**
 * AlgoPerf-style profiles across the models of a grid that have a target (its workloads): each optimizer
 * (series label) scored by the median time over its seeds on each workload; a label a model lacks counts
 * as never reaching there. Null when no model has a target.
 */
export const timeToTargetReport = (models: readonly ModelTimes[], labels: readonly string[]): TimeToTargetReport | null => {
  if (models.length === 0) return null;
  const workloads = models.map((m) => m.workload.model);
  const time = (pick: (t: SeriesTimeToTarget) => number) => (label: string, model: string) => {
    const ttt = models.find((m) => m.workload.model === model)?.series.find((s) => s.label === label)?.ttt;
    return ttt === undefined ? Infinity : pick(ttt);
  };
  const solvers = labels.filter((l) => models.some((m) => m.series.some((s) => s.label === l)));
  return {
    workloads: models.map((m) => m.workload),
    bySeconds: performanceProfile(solvers, workloads, time((t) => t.seconds.median)),
    byEpochs: performanceProfile(solvers, workloads, time((t) => t.epochs.median)),
    partial: models.some((m) => m.series.some((s) => s.ttt.partial)),
  };
};
