import * as tf from '@tensorflow/tfjs';
import { mixSeed } from './hash.js';
import { KerasConv2D } from './conv.js';
import { KerasDense } from './dense.js';

/**
 * Layer constructors with Keras's initialisation: kernels glorot_uniform (TF.js defaults to
 * glorotNormal), biases zeros. Each layer gets its own kernel seed, derived from the build seed and the
 * layer's position, so the same build seed reproduces every initial weight.
 */

export type Activation = 'linear' | 'relu' | 'tanh' | 'sigmoid';

const init = (seed: number, layer: number) => ({
  kernelInitializer: tf.initializers.glorotUniform({ seed: mixSeed(seed, layer) }),
  biasInitializer: tf.initializers.zeros(),
});

export interface DenseArgs {
  readonly units: number;
  readonly activation: Activation;
  readonly name: string;
  readonly inputShape?: number[];
}

/** Keras's Dense; see KerasDense for why it is not TF.js's own. */
export const dense = (seed: number, layer: number, a: DenseArgs): tf.layers.Layer => new KerasDense({ ...a, ...init(seed, layer) });

export interface ConvArgs {
  readonly filters: number;
  readonly kernel: number;
  readonly strides: number;
  readonly padding: 'same' | 'valid';
  readonly activation: Activation;
  readonly name: string;
  readonly inputShape?: number[];
}

const convConfig = (seed: number, layer: number, a: ConvArgs) => ({
  filters: a.filters,
  kernelSize: a.kernel,
  strides: a.strides,
  padding: a.padding,
  activation: a.activation,
  dataFormat: 'channelsLast' as const,
  name: a.name,
  ...(a.inputShape !== undefined ? { inputShape: a.inputShape } : {}),
  ...init(seed, layer),
});

/** Keras's Conv2D; see KerasConv2D for why it is not TF.js's own. */
export const conv2d = (seed: number, layer: number, a: ConvArgs): tf.layers.Layer => new KerasConv2D(convConfig(seed, layer, a));

export const conv2dTranspose = (seed: number, layer: number, a: ConvArgs): tf.layers.Layer =>
  tf.layers.conv2dTranspose(convConfig(seed, layer, a));

export const maxPool = (name: string): tf.layers.Layer =>
  tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid', name });

/** Keras BatchNormalization defaults, written out because they are part of the protocol. */
export const batchNorm = (name: string): tf.layers.Layer =>
  tf.layers.batchNormalization({
    axis: -1,
    momentum: 0.99,
    epsilon: 1e-3,
    center: true,
    scale: true,
    name,
  });
