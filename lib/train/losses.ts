import * as tf from '@tensorflow/tfjs';
import { fusedSoftmaxCrossEntropy } from '../backend/native-loss.js';
import type { DropoutScope } from '../models/dropout.js';
import type { BuiltClassifier, BuiltVae } from '../models/types.js';

/**
 * The study's losses. Both take the batch as tensors and return the scalar loss; the classifier also
 * returns its logits so that accuracy comes from the same forward pass.
 */

/** Categorical cross-entropy on the softmax of the logits, mean over the batch (tf.keras in graph mode). */
export const crossEntropy = (logits: tf.Tensor2D, labels: tf.Tensor1D, classes: number): tf.Scalar =>
  // On native, the same float32 operations in one kernel (lib/backend/native-loss.ts).
  fusedSoftmaxCrossEntropy(logits, labels, classes) ??
  (tf.losses.softmaxCrossEntropy(tf.oneHot(labels, classes), logits, undefined, 0, tf.Reduction.MEAN) as tf.Scalar);

/** What a forward pass is applied with: the mode, and in training the step's dropout scope. */
const applyArgs = (training: boolean, dropout: DropoutScope | undefined) => (dropout === undefined ? { training } : { training, dropout });

export const classifierForward = (
  model: BuiltClassifier,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  training: boolean,
  dropout?: DropoutScope,
): { loss: tf.Scalar; logits: tf.Tensor2D } => {
  const logits = model.net.apply(x, applyArgs(training, dropout)) as tf.Tensor2D;
  const classes = logits.shape[1];
  return { loss: crossEntropy(logits, labels, classes), logits };
};

/** Number of rows whose arg-max equals the label. */
export const correctCount = (logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar =>
  tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(labels, 'int32')), 'float32'));

/**
 * Per image: the sum of squared errors over the pixels plus the KL divergence of N(mu, sigma^2) from
 * N(0, I); the loss is the batch mean. z is sampled (eps seeded) in training and in evaluation, as the
 * Keras example does.
 */
export const vaeForward = (
  model: BuiltVae,
  x: tf.Tensor4D,
  training: boolean,
  seed: number,
  dropout?: DropoutScope,
): { loss: tf.Scalar; reconstruction: tf.Tensor4D } => vaeLoss(model, x, training, vaeNoise(seed), dropout);

/** The VAE's eps ~ N(0, I) for one step (training) or one test batch (evaluation), drawn from its seed. */
export const vaeNoise =
  (seed: number) =>
  (shape: [number, number]): tf.Tensor2D =>
    tf.randomNormal(shape, 0, 1, 'float32', seed);

/**
 * The VAE's loss with the noise drawn by `eps` (called once, with [n, latent]): `vaeForward` seeds it,
 * and a comparison with another library passes that library's own draws (spec/keras-vae.spec.ts).
 */
export const vaeLoss = (
  model: BuiltVae,
  x: tf.Tensor4D,
  training: boolean,
  eps: (shape: [number, number]) => tf.Tensor2D,
  dropout?: DropoutScope,
): { loss: tf.Scalar; reconstruction: tf.Tensor4D } => {
  const [mu, logVar] = model.encoder.apply(x, applyArgs(training, dropout)) as [tf.Tensor2D, tf.Tensor2D];
  const z = tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps(mu.shape)));
  const reconstruction = model.decoder.apply(z, applyArgs(training, dropout)) as tf.Tensor4D;
  const sse = tf.sum(tf.squaredDifference(x, reconstruction), [1, 2, 3]);
  const kl = tf.mul(tf.sum(tf.sub(tf.sub(tf.add(logVar, 1), tf.square(mu)), tf.exp(logVar)), 1), -0.5);
  return { loss: tf.mean(tf.add(sse, kl)) as tf.Scalar, reconstruction };
};
