import * as tf from '@tensorflow/tfjs';
import type { BuiltVae, ModelDef } from './types.js';
import { conv2d, conv2dTranspose, dense } from './layers.js';

/**
 * The study's VAEs, after the Keras example `variational_autoencoder_deconv.py`: a convolutional
 * encoder to (z_mean, z_log_var) and a transposed-convolution decoder to sigmoid images. Sampling of
 * z happens in the loss, so both halves stay plain deterministic LayersModels.
 */

export interface VaeShape {
  /** Filters of the first encoder conv (and of the last hidden decoder deconv). */
  readonly f1: number;
  /** Filters of the second encoder conv (and of the first decoder deconv). */
  readonly f2: number;
  readonly kernel: number;
  readonly latent: number;
}

/** Width of the encoder's bottleneck Dense layer in the Keras example. */
const HIDDEN = 16;

export const buildVae = (name: string, s: VaeShape, seed: number): BuiltVae => {
  const image = tf.input({ shape: [28, 28, 1], name: 'image' });
  const conv = (i: number, filters: number) =>
    conv2d(seed, i, { filters, kernel: s.kernel, strides: 2, padding: 'same', activation: 'relu', name: `conv${i + 1}` });
  let h = conv(0, s.f1).apply(image) as tf.SymbolicTensor;
  h = conv(1, s.f2).apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten({ name: 'flatten' }).apply(h) as tf.SymbolicTensor;
  h = dense(seed, 2, { units: HIDDEN, activation: 'relu', name: 'dense1' }).apply(h) as tf.SymbolicTensor;
  const zMean = dense(seed, 3, { units: s.latent, activation: 'linear', name: 'z_mean' }).apply(h) as tf.SymbolicTensor;
  const zLogVar = dense(seed, 4, { units: s.latent, activation: 'linear', name: 'z_log_var' }).apply(
    h,
  ) as tf.SymbolicTensor;
  const encoder = tf.model({ inputs: image, outputs: [zMean, zLogVar], name: `${name}_encoder` });

  const z = tf.input({ shape: [s.latent], name: 'z' });
  const deconv = (i: number, filters: number, strides: number, activation: 'relu' | 'sigmoid', layerName: string) =>
    conv2dTranspose(seed, i, { filters, kernel: s.kernel, strides, padding: 'same', activation, name: layerName });
  let d = dense(seed, 5, { units: 7 * 7 * s.f2, activation: 'relu', name: 'dense1' }).apply(z) as tf.SymbolicTensor;
  d = tf.layers.reshape({ targetShape: [7, 7, s.f2], name: 'reshape' }).apply(d) as tf.SymbolicTensor;
  d = deconv(6, s.f2, 2, 'relu', 'deconv1').apply(d) as tf.SymbolicTensor;
  d = deconv(7, s.f1, 2, 'relu', 'deconv2').apply(d) as tf.SymbolicTensor;
  const out = deconv(8, 1, 1, 'sigmoid', 'decoder_output').apply(d) as tf.SymbolicTensor;
  const decoder = tf.model({ inputs: z, outputs: out, name: `${name}_decoder` });

  return { kind: 'vae', encoder, decoder, latent: s.latent };
};

/** A VAE model definition for the registry; `vaeDef` lets a user register other sizes. */
export const vaeDef = (name: string, description: string, s: VaeShape): ModelDef => ({
  name,
  kind: 'vae',
  description,
  inputShape: [28, 28, 1],
  build: (seed) => buildVae(name, s, seed),
});

export const vae1 = vaeDef('vae1', 'VAE: Conv 32/64 3x3 stride 2, Dense 16, latent 5; deconv decoder', {
  f1: 32,
  f2: 64,
  kernel: 3,
  latent: 5,
});

export const vae2 = vaeDef('vae2', 'VAE: Conv 64/128 5x5 stride 2, Dense 16, latent 10; deconv decoder', {
  f1: 64,
  f2: 128,
  kernel: 5,
  latent: 10,
});

export const VAES: readonly ModelDef[] = [vae1, vae2];
