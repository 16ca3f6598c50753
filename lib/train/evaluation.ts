import * as tf from '@tensorflow/tfjs';
import { mulberry32, uniformFloat } from '../data/rng.js';
import type { Split } from '../data/types.js';
import type { BuiltModel, BuiltVae } from '../models/types.js';
import type { VaeGrids } from './events.js';
import { classifierForward, vaeForward } from './losses.js';

export interface Evaluation {
  readonly loss: number;
  readonly accuracy: number | null;
  /** confusion[predicted][true]; null for the VAEs. */
  readonly confusion: number[][] | null;
  readonly count: number;
}

/** A [n, rows, cols, 1] tensor over images [start, end) of a split, without copying pixels. */
const imagesTensor = (split: Split, start: number, end: number): tf.Tensor4D => {
  const px = split.rows * split.cols;
  return tf.tensor4d(split.images.subarray(start * px, end * px), [end - start, split.rows, split.cols, 1]);
};

/**
 * Metrics in inference mode (dropout off, batch-norm moving statistics) over the first `count` images of
 * the split, in batches (about 200 is where the cache is happiest). `seed` fixes the VAE's sampling so that
 * an evaluation is reproducible. Synchronous (it reads results with dataSync), so that it can run while a
 * trainer lends the model (see loan.ts).
 */
export const evaluateSplit = (
  model: BuiltModel,
  split: Split,
  opts: { batchSize?: number; count?: number; seed?: number; classes?: number } = {},
): Evaluation => {
  const n = Math.min(opts.count ?? split.count, split.count);
  const batchSize = opts.batchSize ?? 200;
  const classes = opts.classes ?? 10;
  const confusion = model.kind === 'classifier' ? Array.from({ length: classes }, () => new Array<number>(classes).fill(0)) : null;
  let lossSum = 0;
  let correct = 0;
  for (let start = 0, b = 0; start < n; start += batchSize, b++) {
    const end = Math.min(n, start + batchSize);
    const size = end - start;
    if (model.kind === 'classifier') {
      const [loss, predicted] = tf.tidy(() => {
        const x = imagesTensor(split, start, end);
        const labels = tf.tensor1d(split.labels.subarray(start, end), 'int32');
        const out = classifierForward(model, x, labels, false);
        return [out.loss, tf.argMax(out.logits, 1)] as const;
      });
      lossSum += loss.dataSync()[0]! * size;
      const pred = predicted.dataSync();
      tf.dispose([loss, predicted]);
      for (let i = 0; i < size; i++) {
        const p = pred[i]!;
        const t = split.labels[start + i]!;
        if (p === t) correct++;
        confusion![p]![t]!++;
      }
    } else {
      const loss = tf.tidy(() => vaeForward(model, imagesTensor(split, start, end), false, (opts.seed ?? 0) + b).loss);
      lossSum += loss.dataSync()[0]! * size;
      loss.dispose();
    }
  }
  return {
    loss: lossSum / n,
    accuracy: model.kind === 'classifier' ? correct / n : null,
    confusion,
    count: n,
  };
};

const toBase64 = (pixels: Float32Array | Int32Array | Uint8Array): string => {
  const bytes = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) bytes[i] = Math.max(0, Math.min(255, Math.round(pixels[i]! * 255)));
  return Buffer.from(bytes).toString('base64');
};

/** Standard-normal samples (Box-Muller) from the seeded generator, independent of TF.js's RNG. */
const normals = (count: number, seed: number): Float32Array => {
  const rng = mulberry32(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(1 - uniformFloat(rng))) * Math.cos(2 * Math.PI * uniformFloat(rng));
  return out;
};

/**
 * The study's VAE figures: each latent dimension swept over `steps` (the others 0), and images decoded
 * from random z ~ N(0, I).
 */
export const vaeGrids = (model: BuiltVae, seed: number, steps: readonly number[] = linspace(-3, 3, 11)): VaeGrids => {
  const latent = model.latent;
  const traversal: string[] = [];
  for (let d = 0; d < latent; d++) {
    const z = new Float32Array(steps.length * latent);
    steps.forEach((v, i) => (z[i * latent + d] = v));
    const images = tf.tidy(() => model.decoder.predict(tf.tensor2d(z, [steps.length, latent])) as tf.Tensor);
    traversal.push(toBase64(images.dataSync()));
    images.dispose();
  }
  const sampleImages = tf.tidy(
    () => model.decoder.predict(tf.tensor2d(normals(11 * latent, seed), [11, latent])) as tf.Tensor,
  );
  const samples = toBase64(sampleImages.dataSync());
  sampleImages.dispose();
  return { rows: 28, cols: 28, steps: [...steps], traversal, samples };
};

const linspace = (lo: number, hi: number, n: number): number[] =>
  Array.from({ length: n }, (_, i) => +(lo + ((hi - lo) * i) / (n - 1)).toFixed(6));
