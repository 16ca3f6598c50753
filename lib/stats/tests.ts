import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, type InvalidConfig } from '../errors.js';
import { sampleMean, sampleVariance } from './describe.js';
import { normalCdf, studentTTwoSided } from './special.js';

/** a_i - b_i for paired samples (same seeds, same order). */
export const pairedDifferences = (
  a: readonly number[],
  b: readonly number[],
): E.Either<InvalidConfig, number[]> =>
  a.length !== b.length
    ? E.left(
        invalidConfig({
          path: 'seeds',
          message: `Paired samples must have one value per seed in both groups, got ${a.length} and ${b.length}: compare only seeds that finished for both.`,
        }),
      )
    : E.right(a.map((x, i) => x - b[i]!));

export interface TTestResult {
  readonly n: number;
  readonly df: number;
  readonly meanDiff: number;
  readonly sdDiff: number;
  readonly t: number;
  /** Two-sided p-value; NaN when n < 2 (no test is possible). */
  readonly p: number;
}

/** Paired t-test on the differences d_i (H0: mean difference 0), two-sided. */
export const pairedTTest = (d: readonly number[]): TTestResult => {
  const n = d.length;
  const m = sampleMean(d);
  if (n < 2) return { n, df: n - 1, meanDiff: m, sdDiff: NaN, t: NaN, p: NaN };
  const sd = Math.sqrt(sampleVariance(d));
  // Identical differences: no spread, so the sign of the mean decides everything (or nothing, at 0).
  if (sd === 0) return { n, df: n - 1, meanDiff: m, sdDiff: 0, t: m === 0 ? 0 : m * Infinity, p: m === 0 ? 1 : 0 };
  const t = m / (sd / Math.sqrt(n));
  return { n, df: n - 1, meanDiff: m, sdDiff: sd, t, p: studentTTwoSided(t, n - 1) };
};

/** Largest number of non-zero differences for which the exact null distribution is used. */
export const WILCOXON_EXACT_MAX_N = 25;

/**
 * Number of the 2^n sign patterns of ranks 1..n whose positive-rank sum is k, for k = 0..n(n+1)/2
 * (the exact null distribution of W+ without ties). Counts stay below 2^53 far beyond n = 25.
 */
export const wilcoxonExactCounts = (n: number): number[] => {
  const max = (n * (n + 1)) / 2;
  const counts = new Array<number>(max + 1).fill(0);
  counts[0] = 1;
  for (let r = 1; r <= n; r++) {
    for (let k = (r * (r + 1)) / 2; k >= r; k--) counts[k]! += counts[k - r]!;
  }
  return counts;
};

/** Mid-ranks of |x| (1-based, ties get the mean of the ranks they span) and the sizes of tie groups. */
const midRanks = (xs: readonly number[]): { ranks: number[]; tieSizes: number[] } => {
  const order = xs.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
  const ranks = new Array<number>(xs.length).fill(0);
  const tieSizes: number[] = [];
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = r;
    if (j > i) tieSizes.push(j - i + 1);
    i = j + 1;
  }
  return { ranks, tieSizes };
};

export interface WilcoxonResult {
  /** Differences that entered the ranking (zeros dropped: Wilcoxon's zero method). */
  readonly n: number;
  readonly zeros: number;
  readonly ties: boolean;
  /** Sum of the ranks of the positive differences. */
  readonly wPlus: number;
  readonly wMinus: number;
  /** E[W+] under H0, n(n+1)/4: W+ above it means the differences lean positive. */
  readonly expected: number;
  readonly method: 'exact' | 'normal' | 'none';
  /** The z statistic of the normal approximation (with continuity correction), when used. */
  readonly z?: number;
  /** Two-sided p-value. */
  readonly p: number;
  readonly note: string;
}

/**
 * Wilcoxon signed-rank test on paired differences, two-sided. Zero differences are dropped before ranking
 * (Wilcoxon's original method, as R's wilcox.test and SciPy's default do). The exact null distribution is
 * used for at most 25 differences with no zeros and no tied |d|; otherwise the normal approximation with the
 * tie-corrected variance n(n+1)(2n+1)/24 - Σ(t³ - t)/48 and a continuity correction of 1/2 (|W+ - E| is
 * reduced by 1/2, never past 0).
 */
export const wilcoxonSignedRank = (d: readonly number[]): WilcoxonResult => {
  const nonzero = d.filter((x) => x !== 0);
  const zeros = d.length - nonzero.length;
  const n = nonzero.length;
  const { ranks, tieSizes } = midRanks(nonzero.map(Math.abs));
  let wPlus = 0;
  let wMinus = 0;
  nonzero.forEach((x, i) => {
    if (x > 0) wPlus += ranks[i]!;
    else wMinus += ranks[i]!;
  });
  const expected = (n * (n + 1)) / 4;
  const ties = tieSizes.length > 0;
  const base = { n, zeros, ties, wPlus, wMinus, expected };
  if (n === 0)
    return { ...base, method: 'none', p: 1, note: 'every difference is zero: no evidence of a difference' };
  if (n <= WILCOXON_EXACT_MAX_N && zeros === 0 && !ties) {
    const counts = wilcoxonExactCounts(n);
    const total = 2 ** n;
    // W+ is an integer here (no ties), so the tail sums are exact.
    let low = 0;
    let high = 0;
    counts.forEach((c, k) => {
      if (k <= wPlus) low += c;
      if (k >= wPlus) high += c;
    });
    return {
      ...base,
      method: 'exact',
      p: Math.min(1, (2 * Math.min(low, high)) / total),
      note: `exact null distribution over 2^${n} sign patterns`,
    };
  }
  const variance = (n * (n + 1) * (2 * n + 1)) / 24 - tieSizes.reduce((s, t) => s + t * t * t - t, 0) / 48;
  const dev = Math.max(0, Math.abs(wPlus - expected) - 0.5);
  const z = variance > 0 ? Math.sign(wPlus - expected) * (dev / Math.sqrt(variance)) : 0;
  const why = [
    n > WILCOXON_EXACT_MAX_N ? `${n} > ${WILCOXON_EXACT_MAX_N} differences` : '',
    zeros > 0 ? `${zeros} zero difference${zeros > 1 ? 's' : ''} dropped` : '',
    ties ? 'tied |differences|' : '',
  ]
    .filter((s) => s !== '')
    .join(', ');
  return {
    ...base,
    method: 'normal',
    z,
    p: variance > 0 ? Math.min(1, 2 * normalCdf(-Math.abs(z))) : 1,
    note: `normal approximation with tie and continuity corrections (${why})`,
  };
};

/** Smallest two-sided p-value the exact signed-rank test can give with n differences: 2 / 2^n. */
export const wilcoxonMinimumP = (n: number): number => Math.min(1, 2 / 2 ** n);

/**
 * Holm's step-down adjusted p-values, in the input order: sort ascending, multiply the i-th smallest
 * (0-based) by m - i, carry the running maximum so adjusted values never decrease, cap at 1.
 */
export const holm = (ps: readonly number[]): number[] => {
  const m = ps.length;
  const order = ps.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const adjusted = new Array<number>(m).fill(NaN);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
};
