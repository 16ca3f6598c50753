/**
 * A two-sample permutation test of the difference of means, for samples whose units are independent
 * but whose values are not normal (say, how many of three optimizers stalled on each seed).
 */

export interface PermutationResult {
  /** mean(a) - mean(b) */
  readonly difference: number;
  /** Two-sided: (1 + relabellings with |difference| at least the observed) / (1 + rounds). */
  readonly p: number;
  readonly rounds: number;
}

/** A seeded uint32 stream (splitmix32), so that a p-value is the same on every run. */
const splitmix32 = (seed: number) => {
  let s = seed >>> 0;
  return (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
};

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Monte Carlo over `rounds` random relabellings of the pooled values (Fisher-Yates with a seeded stream). */
export const permutationTest = (a: readonly number[], b: readonly number[], rounds = 100_000, seed = 1): PermutationResult => {
  if (a.length === 0 || b.length === 0) throw new RangeError('a permutation test needs two non-empty samples');
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a whole number >= 1, got ${rounds}`);
  const difference = mean(a) - mean(b);
  const pooled = Float64Array.from([...a, ...b]);
  const total = pooled.reduce((s, x) => s + x, 0);
  const rng = splitmix32(seed);
  // Slack for float sums: a relabelling as extreme as the observed one must count.
  const bar = Math.abs(difference) * (1 - 1e-12);
  let extreme = 0;
  for (let r = 0; r < rounds; r++) {
    // Shuffle only the first a.length slots: that is a uniform random subset for group a.
    let sumA = 0;
    for (let i = 0; i < a.length; i++) {
      const j = i + Math.floor((rng() / 4294967296) * (pooled.length - i));
      const x = pooled[j]!;
      pooled[j] = pooled[i]!;
      pooled[i] = x;
      sumA += x;
    }
    if (Math.abs(sumA / a.length - (total - sumA) / b.length) >= bar) extreme++;
  }
  return { difference, p: (1 + extreme) / (1 + rounds), rounds };
};
