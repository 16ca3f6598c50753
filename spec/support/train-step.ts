/**
 * One training step of a built model on one batch, as the native-backend specs take it: the training
 * loss (a VAE's sampling seeded by `seed`), minimised by `optimizer` over `vars`, returned as a number.
 */
import * as tf from '@tensorflow/tfjs';
import type { BuiltModel } from '../../lib/models/index.js';
import { classifierForward, vaeForward } from '../../lib/train/losses.js';
import { uniform } from './random.js';

export interface Batch {
  readonly images: Float32Array;
  readonly labels: Int32Array;
}

/** `count` batches of `size` images uniform in [0, 1) with labels 0-9, seeded. */
export const randomBatches = (count: number, size: number, seed: number): Batch[] => {
  const r = uniform(seed);
  return Array.from({ length: count }, () => ({
    images: Float32Array.from({ length: size * 784 }, r),
    labels: Int32Array.from({ length: size }, () => Math.floor(10 * r())),
  }));
};

/** The training loss of `model` on tensors x (images) and y (labels). */
export const trainingLoss = (model: BuiltModel, x: tf.Tensor4D, y: tf.Tensor1D, seed: number): tf.Scalar =>
  model.kind === 'classifier' ? classifierForward(model, x, y, true).loss : vaeForward(model, x, true, seed).loss;

/** The batch's images and labels as tensors, inside a tidy scope of the caller's. */
export const batchTensors = (b: Batch): { x: tf.Tensor4D; y: tf.Tensor1D } => ({
  x: tf.tensor4d(b.images, [b.labels.length, 28, 28, 1]),
  y: tf.tensor1d(b.labels, 'int32'),
});

/** One optimizer step on `b`; returns the loss before the step. */
export const trainStep = (model: BuiltModel, optimizer: tf.Optimizer, vars: tf.Variable[], b: Batch, seed: number): number => {
  const loss = tf.tidy(() => {
    const { x, y } = batchTensors(b);
    return optimizer.minimize(() => trainingLoss(model, x, y, seed), true, vars)!;
  });
  const v = loss.dataSync()[0]!;
  loss.dispose();
  return v;
};
