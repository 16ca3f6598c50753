import type { Stat } from './types.js';

/** Mean, sample standard deviation, min and max of the finite values of `xs`; null when there are none. */
export const stat = (xs: readonly number[]): Stat | null => {
  const v = xs.filter(Number.isFinite);
  const n = v.length;
  if (n === 0) return null;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, min: Math.min(...v), max: Math.max(...v), n };
};
