import { studentTQuantile } from './special.js';

/** Summary of one optimizer's final metric over seeds. */
export interface SampleSummary {
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (divisor n - 1); NaN when n < 2. */
  readonly std: number;
  readonly min: number;
  readonly max: number;
  /** 95 % Student t interval for the mean, mean ± t_{0.975, n-1} · std / √n; [NaN, NaN] when n < 2. */
  readonly ci95: readonly [number, number];
}

export const sampleMean = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
};

/** Sample variance (n - 1), two-pass so that large offsets do not cancel digits. */
export const sampleVariance = (xs: readonly number[]): number => {
  if (xs.length < 2) return NaN;
  const m = sampleMean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return ss / (xs.length - 1);
};

/** Student t confidence interval for the mean at the given level (0.95 by default). */
export const tInterval = (xs: readonly number[], level = 0.95): readonly [number, number] => {
  if (xs.length < 2) return [NaN, NaN];
  const m = sampleMean(xs);
  const half = studentTQuantile(1 - (1 - level) / 2, xs.length - 1) * Math.sqrt(sampleVariance(xs) / xs.length);
  return [m - half, m + half];
};

/** n, mean, sample std, min, max and the 95 % t interval. An empty sample gives NaNs, never a throw. */
export const describe = (xs: readonly number[]): SampleSummary => ({
  n: xs.length,
  mean: sampleMean(xs),
  std: Math.sqrt(sampleVariance(xs)),
  min: xs.length === 0 ? NaN : Math.min(...xs),
  max: xs.length === 0 ? NaN : Math.max(...xs),
  ci95: tInterval(xs, 0.95),
});
