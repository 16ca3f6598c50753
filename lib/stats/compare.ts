import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, type InvalidConfig } from '../errors.js';
import { describe, type SampleSummary } from './describe.js';
import { holm, pairedTTest, wilcoxonMinimumP, wilcoxonSignedRank } from './tests.js';

export type PairedTestChoice = 'auto' | 'wilcoxon' | 't';
export type PairedTestUsed = 'wilcoxon' | 't' | 'none';

export interface CompareOptions {
  readonly higherIsBetter: boolean;
  readonly alpha?: number;
  readonly test?: PairedTestChoice;
}

/**
 * Where an optimizer stands against the best: `best` itself; `tied` (no significant paired difference);
 * `worse` (significantly worse); `inconsistent` (the signed-rank test says it beats the best-by-mean on most
 * seeds: the best's mean is carried by a few seeds, so neither is named).
 */
export type ComparisonVerdict = 'best' | 'tied' | 'worse' | 'inconsistent';

export interface OptimizerVsBest extends SampleSummary {
  readonly name: string;
  readonly verdict: ComparisonVerdict;
  /** True for the best and for every optimizer not significantly different from it (the group to mark). */
  readonly tiedWithBest: boolean;
  /** Mean over seeds of the paired difference, oriented so that positive means the best is better. */
  readonly gapToBest: number;
  /** Raw and Holm-adjusted two-sided p-values of the paired test against the best; null for the best. */
  readonly p: number | null;
  readonly pAdjusted: number | null;
  readonly test: PairedTestUsed | null;
  /** How the test was computed (exact/normal Wilcoxon, t with df), for the report's footnotes. */
  readonly detail: string;
}

export interface BestComparison {
  readonly best: string;
  /** The best, named only when every other optimizer is significantly worse after Holm's correction. */
  readonly winner: string | null;
  readonly n: number;
  readonly alpha: number;
  readonly higherIsBetter: boolean;
  readonly test: PairedTestUsed;
  /** Why this test: the choice rule applied to this n, in a sentence for the report. */
  readonly testReason: string;
  readonly optimizers: Readonly<Record<string, OptimizerVsBest>>;
}

const fmt = (x: number): string => (x >= 1e-3 ? x.toPrecision(3) : x.toExponential(2));

/** Smallest n for which the exact signed-rank test can reach p < alpha after Holm over m comparisons. */
const seedsNeededForWilcoxon = (m: number, alpha: number): number => {
  let n = 1;
  while (wilcoxonMinimumP(n) * m >= alpha) n++;
  return n;
};

const chooseTest = (choice: PairedTestChoice, n: number, m: number, alpha: number): { test: PairedTestUsed; reason: string } => {
  if (m === 0) return { test: 'none', reason: 'only one optimizer: nothing to compare' };
  if (n < 2)
    return {
      test: 'none',
      reason: `${n} seed${n === 1 ? '' : 's'}: a paired test needs at least two seeds, so every optimizer counts as tied with the best`,
    };
  const minP = wilcoxonMinimumP(n);
  const reachable = minP * m < alpha;
  const holmNote = m > 1 ? `, times ${m} under Holm's correction = ${fmt(minP * m)}` : '';
  const limit =
    `with n = ${n} seeds the exact Wilcoxon signed-rank test cannot give a two-sided p below 2/2^${n} = ${fmt(minP)}` +
    `${holmNote}, which is not below alpha = ${alpha}; it needs n >= ${seedsNeededForWilcoxon(m, alpha)}`;
  switch (choice) {
    case 't':
      return { test: 't', reason: 'paired t-test on the per-seed differences (requested)' };
    case 'wilcoxon':
      return {
        test: 'wilcoxon',
        reason: `Wilcoxon signed-rank test on the per-seed differences (requested)${reachable ? '' : `; note: ${limit}, so no difference can be significant`}`,
      };
    case 'auto':
      return reachable
        ? {
            test: 'wilcoxon',
            reason: `Wilcoxon signed-rank test on the per-seed differences (n = ${n} seeds is enough for it to reach p < ${alpha} after Holm's correction; it assumes no normality)`,
          }
        : { test: 't', reason: `paired t-test on the per-seed differences, because ${limit}` };
  }
};

const validate = (
  results: Readonly<Record<string, readonly number[]>>,
  alpha: number,
): E.Either<InvalidConfig, number> => {
  const names = Object.keys(results);
  if (names.length === 0)
    return E.left(invalidConfig({ path: 'results', message: 'No results to compare: give at least one optimizer with one value per seed.' }));
  if (!(alpha > 0 && alpha < 1))
    return E.left(invalidConfig({ path: 'alpha', message: `alpha must be between 0 and 1 (exclusive), got ${alpha}.` }));
  const n = results[names[0]!]!.length;
  for (const name of names) {
    const xs = results[name]!;
    if (xs.length !== n)
      return E.left(
        invalidConfig({
          path: `results.${name}`,
          message: `Paired comparison needs the same seeds for every optimizer: '${names[0]}' has ${n} values but '${name}' has ${xs.length}. Finish or drop the missing seeds.`,
        }),
      );
    const bad = xs.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0)
      return E.left(
        invalidConfig({
          path: `results.${name}`,
          message: `'${name}' has a non-finite value (${xs[bad]}) at seed index ${bad} (a diverged run?): drop that seed for every optimizer before comparing.`,
        }),
      );
  }
  if (n === 0)
    return E.left(invalidConfig({ path: 'results', message: 'Every optimizer has zero seeds: run at least one seed.' }));
  return E.right(n);
};

/**
 * Compares every optimizer to the one with the best mean on the paired per-seed differences (optimizers
 * share initial weights and batch order within a seed), with Holm's correction across the comparisons.
 * `results[name][i]` is that optimizer's final metric for the i-th seed; the seed order must agree.
 */
export const compareToBest = (
  results: Readonly<Record<string, readonly number[]>>,
  options: CompareOptions,
): E.Either<InvalidConfig, BestComparison> => {
  const alpha = options.alpha ?? 0.05;
  const choice = options.test ?? 'auto';
  const sign = options.higherIsBetter ? 1 : -1;
  return E.map((n: number) => {
    const names = Object.keys(results);
    const descriptions = Object.fromEntries(names.map((name) => [name, describe(results[name]!)]));
    // First in key order wins a tie in the mean, so the result never depends on sort stability.
    const best = names.reduce((b, name) => (sign * descriptions[name]!.mean > sign * descriptions[b]!.mean ? name : b));
    const others = names.filter((name) => name !== best);
    const { test, reason } = chooseTest(choice, n, others.length, alpha);
    const bestXs = results[best]!;
    const raw = others.map((name) => {
      const d = results[name]!.map((x, i) => sign * (bestXs[i]! - x));
      const gap = d.reduce((s, x) => s + x, 0) / n;
      if (test === 'none') return { name, gap, p: 1, favoursBest: gap > 0, detail: 'no test' };
      if (test === 't') {
        const r = pairedTTest(d);
        return { name, gap, p: r.p, favoursBest: r.meanDiff > 0, detail: `t = ${fmt(r.t)}, df = ${r.df}` };
      }
      const r = wilcoxonSignedRank(d);
      return {
        name,
        gap,
        p: r.p,
        favoursBest: r.wPlus > r.expected,
        detail: `W+ = ${r.wPlus}, W- = ${r.wMinus}, ${r.note}`,
      };
    });
    const adjusted = holm(raw.map((r) => r.p));
    const entries: Record<string, OptimizerVsBest> = {};
    for (const name of names) {
      const i = others.indexOf(name);
      if (i < 0) {
        entries[name] = {
          name,
          ...descriptions[name]!,
          verdict: 'best',
          tiedWithBest: true,
          gapToBest: 0,
          p: null,
          pAdjusted: null,
          test: null,
          detail: 'best mean',
        };
        continue;
      }
      const r = raw[i]!;
      const significant = test !== 'none' && adjusted[i]! < alpha;
      const verdict: ComparisonVerdict = !significant ? 'tied' : r.favoursBest ? 'worse' : 'inconsistent';
      entries[name] = {
        name,
        ...descriptions[name]!,
        verdict,
        tiedWithBest: verdict === 'tied',
        gapToBest: r.gap,
        p: r.p,
        pAdjusted: adjusted[i]!,
        test,
        detail: r.detail,
      };
    }
    const winner = others.length > 0 && others.every((name) => entries[name]!.verdict === 'worse') ? best : null;
    return { best, winner, n, alpha, higherIsBetter: options.higherIsBetter, test, testReason: reason, optimizers: entries };
  })(validate(results, alpha));
};
