/**
 * The fixed gradient sequence the optimizer specs run every rule on, and the bound they hold a rule to:
 * each weight within 1e-4 of its whole movement (|ref_100 - ref_0|) of an independent float64 reference.
 */
import * as tf from '@tensorflow/tfjs';

export type Ref = (theta: number[], g: readonly number[], t: number) => void;

// 100 gradients for 6 weights: tiny (eps placement matters), large, alternating sign, zeros, decaying, noise.
export const STEPS = 100;
export const SIZE = 6;
export const TINY = 0;
export const LARGE = 1;
export const gradients: number[][] = (() => {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  return Array.from({ length: STEPS }, (_, k) => [
    1e-6 * (1 + 0.5 * Math.sin(k)) * (k % 17 === 16 ? -1 : 1),
    50 * (1 + 0.3 * Math.cos(k)) * (k % 11 === 10 ? -1 : 1),
    (k % 2 === 0 ? 1 : -1) * 0.5 + 0.2,
    k % 3 === 0 ? 0 : k % 2 === 0 ? 0.3 : -0.1,
    2 * Math.exp(-k / 20) + 0.01,
    2 * rand() - 0.7,
  ]);
})();

/** The reference's weights after each step of the sequence, from zeros. */
export const trajectoryOf = (step: Ref): number[][] => {
  const th = new Array<number>(SIZE).fill(0);
  return gradients.map((g, k) => {
    step(th, g, k + 1);
    return [...th];
  });
};

/** Worst |w - ref| / (1e-4 * |ref_100 - ref_0|) over steps, per weight. Within the bound iff <= 1. */
export const worstRatios = (opt: tf.Optimizer, ref: number[][]): number[] => {
  const w = tf.tidy(() => tf.variable(tf.zeros([SIZE])));
  const worst = new Array<number>(SIZE).fill(0);
  for (let k = 0; k < STEPS; k++) {
    const g = tf.tensor1d(gradients[k]!);
    opt.applyGradients({ [w.name]: g });
    g.dispose();
    const got = w.dataSync();
    for (let i = 0; i < SIZE; i++) {
      const tol = 1e-4 * Math.abs(ref[STEPS - 1]![i]!);
      worst[i] = Math.max(worst[i]!, Math.abs(got[i]! - ref[k]![i]!) / tol);
    }
  }
  w.dispose();
  opt.dispose();
  return worst;
};

/** Runs a suite on TF.js's reference CPU backend and gives the previous backend back afterwards. */
export const onCpu = () => {
  let previous = '';
  before(async () => {
    // getBackend() is undefined (despite its type) before any backend has been initialised.
    previous = (tf.getBackend() as string | undefined) ?? '';
    await tf.setBackend('cpu');
  });
  after(async () => {
    if (previous !== '' && previous !== 'cpu') await tf.setBackend(previous);
  });
};

