/**
 * Seeded randomness for shuffles and dropout masks. Everything here is a function of its seed alone,
 * so a run's batch order and masks can be recomputed from (seed, epoch, step) after a resume.
 */

/** A generator of uint32 values. */
export type Rng = () => number;

/** mulberry32: a 32-bit-state generator, fast and good enough for shuffling and masks. */
export const mulberry32 = (seed: number): Rng => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
};

/** A float in [0, 1) from one uint32 draw. */
export const uniformFloat = (rng: Rng): number => rng() / 4294967296;

/**
 * An unbiased integer in [0, bound) for 1 <= bound <= 2^32: draws below 2^32 mod bound are rejected
 * so that every residue is equally likely.
 */
export const uniformBelow = (rng: Rng, bound: number): number => {
  const threshold = 4294967296 % bound;
  for (;;) {
    const r = rng();
    if (r >= threshold) return r % bound;
  }
};

const fmix32 = (h: number): number => {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
};

const scratch = new DataView(new ArrayBuffer(8));

const mixWord = (h: number, k: number): number => {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
};

/**
 * A 32-bit seed from a list of numbers (MurmurHash3's mixing over each number's float64 bits, so any
 * integer a JavaScript number can hold is hashed exactly). `deriveSeed(seed, epoch)` and
 * `deriveSeed(seed, epoch, step)` give unrelated streams.
 */
export const deriveSeed = (...parts: number[]): number => {
  let h = 0x9e3779b9 | 0;
  for (const p of parts) {
    scratch.setFloat64(0, p === 0 ? 0 : p, false); // -0 and 0 are the same seed part
    h = mixWord(h, scratch.getUint32(0, false));
    h = mixWord(h, scratch.getUint32(4, false));
  }
  return fmix32(h ^ parts.length);
};

/** A uniformly random permutation of 0..n-1 (Fisher–Yates), determined by `seed`. */
export const permutation = (n: number, seed: number): Uint32Array => {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  const rng = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = uniformBelow(rng, i + 1);
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
};
