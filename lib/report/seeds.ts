import * as E from 'fp-ts/lib/Either.js';
import { compareToBest, describe } from '../stats/index.js';
import type { ModelKind, RunSummary, SeedComparison } from './types.js';

/** Half-width of the 95 % t interval of the mean; null with fewer than two values. */
export const ciHalfWidth = (xs: readonly number[]): number | null => {
  if (xs.length < 2) return null;
  const [lo, hi] = describe(xs).ci95;
  return (hi - lo) / 2;
};

export interface ComparedSeries {
  readonly label: string;
  readonly runs: readonly RunSummary[];
}

/** Finished runs only: a partial run's last epoch is not its final metric, so it never enters a test. */
const finishedBySeed = (s: ComparedSeries): Map<number, number> =>
  new Map(
    s.runs.flatMap((r) => (r.status === 'done' && r.value !== null && Number.isFinite(r.value) ? [[r.seed, r.value] as const] : [])),
  );

/**
 * Compares a model's optimizers on the seeds every one of them finished (optimizers share initial weights
 * and batch order within a seed, so the per-seed differences are paired). Optimizers that finished none
 * of those seeds are left out and listed as excluded. Null when fewer than two optimizers have at least
 * two finished seeds in common.
 */
export const compareSeeds = (
  kind: ModelKind,
  series: readonly ComparedSeries[],
  alpha = 0.05,
): SeedComparison | null => {
  const values = series.map((s) => ({ label: s.label, bySeed: finishedBySeed(s) })).filter((s) => s.bySeed.size > 0);
  if (values.length < 2) return null;
  // The seeds finished by every optimizer that has any; if fewer than two, drop the optimizers with the
  // fewest finished seeds until two seeds are shared (an unfinished or diverged optimizer must not hide
  // the comparison of the others; it is listed as excluded).
  let compared = values;
  let seeds: number[] = [];
  for (;;) {
    seeds = [...compared[0]!.bySeed.keys()].filter((seed) => compared.every((s) => s.bySeed.has(seed))).sort((a, b) => a - b);
    if (seeds.length >= 2 || compared.length <= 2) break;
    const fewest = Math.min(...compared.map((s) => s.bySeed.size));
    const kept = compared.filter((s) => s.bySeed.size > fewest);
    if (kept.length < 2) break;
    compared = kept;
  }
  // One seed gives no paired test: every optimizer would count as tied, which says nothing.
  if (seeds.length < 2) return null;
  const results = Object.fromEntries(compared.map((s) => [s.label, seeds.map((seed) => s.bySeed.get(seed)!)]));
  const c = compareToBest(results, { higherIsBetter: kind === 'classifier', alpha });
  if (E.isLeft(c)) return null;
  const r = c.right;
  const names = compared.map((s) => s.label);
  return {
    best: r.best,
    winner: r.winner,
    seeds,
    test: r.test,
    testReason: r.testReason,
    alpha: r.alpha,
    compared: names,
    excluded: series.map((s) => s.label).filter((l) => !names.includes(l)),
    rows: Object.fromEntries(
      names.map((name) => {
        const o = r.optimizers[name]!;
        return [name, { verdict: o.verdict, tied: o.tiedWithBest, gap: o.gapToBest, p: o.p, pAdjusted: o.pAdjusted, detail: o.detail }];
      }),
    ),
  };
};

const TEST_NAME = { wilcoxon: 'Wilcoxon signed-rank test', t: 'paired t-test', none: 'no test' } as const;

const pText = (p: number): string => (p >= 0.001 ? p.toFixed(3) : p.toExponential(1));

/** One sentence on the comparison: the winner when there is one, else who is tied with the best. */
export const comparisonSentence = (c: SeedComparison): string => {
  const n = c.seeds.length;
  const how = `${TEST_NAME[c.test]} on the per-seed differences over ${n} seed${n === 1 ? '' : 's'}, Holm-corrected, alpha = ${c.alpha}`;
  if (c.winner !== null) {
    const worst = Math.max(...Object.values(c.rows).flatMap((r) => (r.pAdjusted === null ? [] : [r.pAdjusted])));
    return `${c.winner} is the winner: significantly better than every other optimizer (${how}; largest adjusted p = ${pText(worst)}).`;
  }
  const tied = c.compared.filter((l) => l !== c.best && c.rows[l]!.tied);
  const inconsistent = c.compared.filter((l) => c.rows[l]!.verdict === 'inconsistent');
  const parts = [`No winner: ${c.best} has the best mean`];
  if (tied.length > 0) parts.push(`but ${tied.join(', ')} ${tied.length === 1 ? 'is' : 'are'} statistically tied with it`);
  if (inconsistent.length > 0) parts.push(`and ${inconsistent.join(', ')} beat${inconsistent.length === 1 ? 's' : ''} it on most seeds`);
  return `${parts.join(' ')} (${how}).`;
};
