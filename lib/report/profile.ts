/**
 * Performance profiles (Dolan & Moré 2002) as AlgoPerf scores training algorithms with them: each solver's
 * time on each workload as a ratio to the fastest solver's, the fraction of workloads within a factor tau
 * of the fastest, and the area under that fraction from tau = 1 to tauMax, normalised to [0, 1].
 * Pure: times in, numbers out (docs/time-to-target.md gives the formulas and where ours differ).
 */

/** AlgoPerf's upper limit of tau: a solver more than 4 times slower than the fastest gets no credit. */
export const TAU_MAX = 4;

export interface ProfileRow {
  readonly solver: string;
  /** r = t / min over solvers of t, per workload (in the profile's order); Infinity where it never reached the target. */
  readonly ratios: readonly number[];
  /** rho at tau = 1 and at each ratio where it steps up, up to tauMax: a right-continuous step function. */
  readonly steps: readonly { readonly tau: number; readonly rho: number }[];
  /** (1 / (tauMax - 1)) x the integral of rho from 1 to tauMax: 1 when fastest everywhere, 0 when never within tauMax. */
  readonly score: number;
}

export interface PerformanceProfile {
  readonly tauMax: number;
  readonly workloads: readonly string[];
  readonly rows: readonly ProfileRow[];
  /** Workloads no solver reached: they stay in the denominator and count for no one. */
  readonly unreached: readonly string[];
}

/** The time of `solver` on `workload`: seconds or epochs to the target, Infinity if it never reached it. */
export type Times = (solver: string, workload: string) => number;

/** r = t / best, with Infinity for a time that is not finite or a workload no one reached. */
const ratio = (t: number, best: number): number =>
  !Number.isFinite(t) || !Number.isFinite(best) ? Infinity : best > 0 ? t / best : t === 0 ? 1 : Infinity;

/** rho_s(tau): the fraction of workloads on which the solver's ratio is at most tau. */
export const rho = (ratios: readonly number[], tau: number): number =>
  ratios.length === 0 ? 0 : ratios.filter((r) => r <= tau).length / ratios.length;

/**
 * The score, computed exactly: rho is a step function, and the integral of [r <= tau] from 1 to tauMax is
 * tauMax - r for r <= tauMax (r >= 1 always), so B = sum over workloads of max(0, tauMax - r) / ((tauMax - 1) |W|).
 */
export const profileScore = (ratios: readonly number[], tauMax = TAU_MAX): number =>
  ratios.length === 0 ? 0 : ratios.reduce((sum, r) => sum + (r <= tauMax ? tauMax - r : 0), 0) / ((tauMax - 1) * ratios.length);

/** Every solver's profile over `workloads`, from `times` (one call per solver and workload). */
export const performanceProfile = (solvers: readonly string[], workloads: readonly string[], times: Times, tauMax = TAU_MAX): PerformanceProfile => {
  const t = solvers.map((s) => workloads.map((w) => times(s, w)));
  const best = workloads.map((_, j) => Math.min(Infinity, ...t.map((row) => row[j]!)));
  const rows = solvers.map((solver, i): ProfileRow => {
    const ratios = t[i]!.map((x, j) => ratio(x, best[j]!));
    const jumps = [...new Set(ratios.filter((r) => r > 1 && r <= tauMax))].sort((a, b) => a - b);
    return {
      solver,
      ratios,
      steps: [1, ...jumps].map((tau) => ({ tau, rho: rho(ratios, tau) })),
      score: profileScore(ratios, tauMax),
    };
  });
  return { tauMax, workloads, rows, unreached: workloads.filter((_, j) => !Number.isFinite(best[j]!)) };
};
