import type * as tf from '@tensorflow/tfjs';
import type { BuiltModel } from './types.js';

/**
 * Weight lists for the trainer and checkpoints. TF.js orders a model's weights as its trainable ones
 * (layer order; kernel before bias, gamma before beta) followed by its non-trainable ones (moving mean,
 * moving variance); for a VAE the encoder's come before the decoder's. That order depends only on the
 * architecture, so a checkpoint can be a plain list of arrays. (Variable names are not stable: TF.js
 * suffixes them `_1`, `_2`, ... to keep them unique within the process.)
 */

const nets = (built: BuiltModel): readonly tf.LayersModel[] =>
  built.kind === 'classifier' ? [built.net] : [built.encoder, built.decoder];

/** Every weight, including non-trainable ones (BatchNormalization's moving statistics). */
export const modelWeights = (built: BuiltModel): tf.LayerVariable[] => nets(built).flatMap((n) => n.weights);

/** The weights an optimizer updates. */
export const trainableWeights = (built: BuiltModel): tf.LayerVariable[] =>
  nets(built).flatMap((n) => n.trainableWeights);

/** The variables behind `trainableWeights`, for `tf.variableGrads` / `optimizer.applyGradients`. */
export const trainableVariables = (built: BuiltModel): tf.Variable[] =>
  trainableWeights(built).map((w) => w.read() as tf.Variable);

/** The non-trainable weights (moving statistics), updated by the forward pass in training mode. */
export const nonTrainableWeights = (built: BuiltModel): tf.LayerVariable[] =>
  nets(built).flatMap((n) => n.nonTrainableWeights);

/** Parameter count as Keras's `count_params` reports it: all weights, trainable or not. */
export const countParameters = (built: BuiltModel): number =>
  modelWeights(built).reduce((sum, w) => sum + w.shape.reduce<number>((p, d) => p * (d ?? 0), 1), 0);

const disposed = new WeakSet<BuiltModel>();

/** Frees every variable of the model. Safe to call twice. */
export const disposeModel = (built: BuiltModel): void => {
  if (disposed.has(built)) return;
  disposed.add(built);
  for (const n of nets(built)) n.dispose();
};
