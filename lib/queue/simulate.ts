/**
 * What a grid's makespan would be on K machines, scheduled as the queue schedules it: jobs leave the
 * queue in priority order (`queuePriority`: longest estimate first, ties in submission order), and each
 * free machine takes the next one. Pure: durations in, makespan out.
 */
import type { RunSpec } from '../config/spec.js';
import { estimateRunSeconds, queuePriority } from './cost.js';

export interface SimulatedRun {
  readonly spec: RunSpec;
  readonly seconds: number;
  readonly machine: number;
  readonly start: number;
}

export interface Simulation {
  readonly machines: number;
  readonly makespan: number;
  /** No schedule can beat this: the longest single run, or all the work spread evenly. */
  readonly bound: number;
  readonly longest: number;
  readonly totalWork: number;
  readonly runs: readonly SimulatedRun[];
}

/** The order runs leave the queue: by priority, then by submission (BullMQ's order among equal priorities). */
export const queueOrder = (specs: readonly RunSpec[]): RunSpec[] =>
  specs
    .map((spec, i) => ({ spec, i, p: queuePriority(spec) }))
    .sort((a, b) => a.p - b.p || a.i - b.i)
    .map((x) => x.spec);

/**
 * List scheduling in queue order on `machines` identical machines (one run at a time each). `seconds`
 * gives a run's duration (default: the estimate from measured per-step times); `order` is the queue's
 * unless another is given (e.g. first in, first out, to compare).
 */
export const simulate = (
  specs: readonly RunSpec[],
  machines: number,
  seconds: (spec: RunSpec) => number = (s) => estimateRunSeconds(s),
  order: (specs: readonly RunSpec[]) => readonly RunSpec[] = queueOrder,
): Simulation => {
  const free = new Array<number>(machines).fill(0);
  const runs: SimulatedRun[] = [];
  for (const spec of order(specs)) {
    let m = 0;
    for (let i = 1; i < machines; i++) if (free[i]! < free[m]!) m = i;
    const d = seconds(spec);
    runs.push({ spec, seconds: d, machine: m, start: free[m]! });
    free[m] = free[m]! + d;
  }
  const durations = runs.map((r) => r.seconds);
  const totalWork = durations.reduce((a, b) => a + b, 0);
  const longest = Math.max(0, ...durations);
  return { machines, makespan: Math.max(0, ...free), bound: Math.max(longest, totalWork / machines), longest, totalWork, runs };
};
