/** Seeded test inputs, so that a failure reproduces: the library's own mulberry32 (lib/data/rng.ts). */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../../lib/data/rng.js';

/** Uniform draws in [0, 1). */
export const uniform = (seed: number): (() => number) => {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
};

/** n values uniform in [lo, hi). */
export const randomArray = (n: number, seed: number, lo = -1, hi = 1): Float32Array => {
  const r = uniform(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
};

/** A float32 tensor of the shape, uniform in [lo, hi). */
export const randomTensor = (shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor =>
  tf.tensor(randomArray(shape.reduce((p, d) => p * d, 1), seed, lo, hi), shape);

/** A float32 tensor's bit patterns, for comparisons that must be exact (NaN payloads, -0). */
export const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
