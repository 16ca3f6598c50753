import { logGamma, normalCdf } from './special.js';

/**
 * Tests on 2x2 tables of counts: how often something happened in two groups (say, how many seeds of a
 * VAE stalled in one stack and in another). A table is [[a, b], [c, d]]: row 1 is group 1 with `a`
 * events and `b` non-events, row 2 is group 2 with `c` and `d`.
 */
export type Table2x2 = readonly [readonly [number, number], readonly [number, number]];

const logChoose = (n: number, k: number): number => logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);

/** Relative slack for "as or less probable than the observed table", as R's fisher.test uses. */
const RELATIVE_ERROR = 1 + 1e-7;

/**
 * The distribution of the top-left count given the margins (hypergeometric): P(a = k) for k from `lo`.
 * Computed in logs, so margins of thousands are fine.
 */
const hypergeometric = (t: Table2x2): { lo: number; p: number[] } => {
  const [[a, b], [c, d]] = t;
  const row1 = a + b;
  const col1 = a + c;
  const n = a + b + c + d;
  const lo = Math.max(0, col1 - (n - row1));
  const hi = Math.min(row1, col1);
  const denominator = logChoose(n, col1);
  const p: number[] = [];
  for (let k = lo; k <= hi; k++) p.push(Math.exp(logChoose(row1, k) + logChoose(n - row1, col1 - k) - denominator));
  return { lo, p };
};

const checkCounts = (t: Table2x2): void => {
  for (const x of t.flat())
    if (!Number.isInteger(x) || x < 0) throw new RangeError(`a 2x2 table holds counts (whole numbers >= 0), got ${x}`);
};

export interface FisherResult {
  /** Two-sided p: the probability, given the margins, of a table as probable as the observed one or less. */
  readonly p: number;
  /** The sample odds ratio a*d / (b*c) (Infinity or NaN where a cell is 0). */
  readonly oddsRatio: number;
}

/** Fisher's exact test of a 2x2 table (two-sided, as R's `fisher.test` and SciPy's `fisher_exact`). */
export const fisherExact = (t: Table2x2): FisherResult => {
  checkCounts(t);
  const [[a, b], [c, d]] = t;
  const { lo, p } = hypergeometric(t);
  const observed = p[a - lo]!;
  const sum = p.reduce((s, q) => (q <= observed * RELATIVE_ERROR ? s + q : s), 0);
  return { p: Math.min(1, sum), oddsRatio: (a * d) / (b * c) };
};

export interface MantelHaenszelResult {
  /** The CMH chi-square statistic (1 degree of freedom), with continuity correction where asked. */
  readonly statistic: number;
  /** Its two-sided p. */
  readonly p: number;
  /** The exact conditional two-sided p: the strata's hypergeometric laws convolved (R's `exact = TRUE`). */
  readonly exactP: number;
  /** The Mantel-Haenszel estimate of the common odds ratio. */
  readonly oddsRatio: number;
}

/**
 * The Cochran-Mantel-Haenszel test of 2x2 tables, one per stratum (say, per optimizer): is there an
 * association between rows and columns, pooled over the strata? As R's `mantelhaen.test` for 2x2xK:
 * the statistic (|sum(a - E a)| - 0.5)^2 / sum(Var a), with the continuity correction unless `correct`
 * is false, and the exact conditional p-value. The strata must be independent samples.
 */
export const mantelHaenszel = (tables: readonly Table2x2[], correct = true): MantelHaenszelResult => {
  if (tables.length === 0) throw new RangeError('the Mantel-Haenszel test needs at least one 2x2 table');
  tables.forEach(checkCounts);
  let deviation = 0;
  let variance = 0;
  let orTop = 0;
  let orBottom = 0;
  // The exact law of sum(a) given every stratum's margins: a convolution of hypergeometrics.
  let law: number[] = [1];
  let lawLo = 0;
  let observedSum = 0;
  for (const t of tables) {
    const [[a, b], [c, d]] = t;
    const n = a + b + c + d;
    if (n < 2) continue;
    const row1 = a + b;
    const col1 = a + c;
    deviation += a - (row1 * col1) / n;
    variance += (row1 * (n - row1) * col1 * (n - col1)) / (n * n * (n - 1));
    orTop += (a * d) / n;
    orBottom += (b * c) / n;
    const h = hypergeometric(t);
    const next = new Array<number>(law.length + h.p.length - 1).fill(0);
    law.forEach((x, i) => h.p.forEach((y, j) => (next[i + j]! += x * y)));
    law = next;
    lawLo += h.lo;
    observedSum += a;
  }
  const shifted = Math.max(0, Math.abs(deviation) - (correct ? 0.5 : 0));
  const statistic = variance > 0 ? (shifted * shifted) / variance : 0;
  // A chi-square with one degree of freedom is a squared standard normal.
  const p = variance > 0 ? 2 * (1 - normalCdf(Math.sqrt(statistic))) : 1;
  const observed = law[observedSum - lawLo] ?? 0;
  const exactP = Math.min(1, law.reduce((s, q) => (q <= observed * RELATIVE_ERROR ? s + q : s), 0));
  return { statistic, p, exactP, oddsRatio: orTop / orBottom };
};
