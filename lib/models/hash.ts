/**
 * A small integer hash for deriving seeds (per layer, per dropout call). Local to the models layer so
 * that it does not depend on lib/data; any well-mixed function would do, but it must never change:
 * initial weights of a seed are part of a run's identity.
 */

/** murmur3's 32-bit finaliser: a bijection on uint32 with good avalanche. */
const fmix32 = (h: number): number => {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
};

/**
 * Mixes integers into one uint32 seed. Each argument is truncated to an integer and split into its
 * low and high 32-bit words, so seeds up to 2^53 and negative seeds are all distinct inputs.
 */
export const mixSeed = (...ints: readonly number[]): number => {
  let h = 0x811c9dc5;
  for (const n of ints) {
    const v = Number.isFinite(n) ? Math.trunc(n) : 0;
    const lo = v >>> 0;
    const hi = Math.floor(v / 0x100000000) >>> 0;
    h = fmix32((h ^ lo) + 0x9e3779b9);
    h = fmix32((h ^ hi) + 0x7f4a7c15);
  }
  return h;
};
