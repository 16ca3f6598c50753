import * as tf from '@tensorflow/tfjs';
import type { BuiltClassifier, ModelDef } from './types.js';
import { batchNorm, conv2d, dense, maxPool } from './layers.js';
import { seededDropout } from './dropout.js';

/**
 * The study's four classifiers. The last Dense layer is linear: the network returns logits and the
 * study's softmax is fused into the loss (see types.ts).
 */

const INPUT: [number, number, number] = [28, 28, 1];
const CLASSES = 10;

const classifier = (name: string, layers: readonly tf.layers.Layer[]): BuiltClassifier => {
  const net = tf.sequential({ name });
  for (const l of layers) net.add(l);
  return { kind: 'classifier', net };
};

export const fcnn: ModelDef = {
  name: 'fcnn',
  kind: 'classifier',
  description: 'Fully connected: Dense 784 tanh, 512 sigmoid, 100 relu, 10 (softmax in the loss)',
  inputShape: [28, 28, 1],
  build: (seed) =>
    classifier('fcnn', [
      tf.layers.flatten({ inputShape: INPUT, name: 'flatten' }),
      dense(seed, 0, { units: 784, activation: 'tanh', name: 'dense1' }),
      dense(seed, 1, { units: 512, activation: 'sigmoid', name: 'dense2' }),
      dense(seed, 2, { units: 100, activation: 'relu', name: 'dense3' }),
      dense(seed, 3, { units: CLASSES, activation: 'linear', name: 'logits' }),
    ]),
};

export const scnn: ModelDef = {
  name: 'scnn',
  kind: 'classifier',
  description: 'Small CNN: Conv 40 5x5, MaxPool, Dense 100 relu, 10',
  inputShape: [28, 28, 1],
  build: (seed) =>
    classifier('scnn', [
      conv2d(seed, 0, {
        filters: 40, kernel: 5, strides: 1, padding: 'valid', activation: 'relu', name: 'conv1', inputShape: INPUT,
      }),
      maxPool('pool1'),
      tf.layers.flatten({ name: 'flatten' }),
      dense(seed, 1, { units: 100, activation: 'relu', name: 'dense1' }),
      dense(seed, 2, { units: CLASSES, activation: 'linear', name: 'logits' }),
    ]),
};

export const bcnn: ModelDef = {
  name: 'bcnn',
  kind: 'classifier',
  description: 'Bigger CNN: Conv 48 3x3, MaxPool, Conv 96 3x3, MaxPool, Dense 100 relu, 10',
  inputShape: [28, 28, 1],
  build: (seed) =>
    classifier('bcnn', [
      conv2d(seed, 0, {
        filters: 48, kernel: 3, strides: 1, padding: 'valid', activation: 'relu', name: 'conv1', inputShape: INPUT,
      }),
      maxPool('pool1'),
      conv2d(seed, 1, { filters: 96, kernel: 3, strides: 1, padding: 'valid', activation: 'relu', name: 'conv2' }),
      maxPool('pool2'),
      tf.layers.flatten({ name: 'flatten' }),
      dense(seed, 2, { units: 100, activation: 'relu', name: 'dense1' }),
      dense(seed, 3, { units: CLASSES, activation: 'linear', name: 'logits' }),
    ]),
};

export const mcnn: ModelDef = {
  name: 'mcnn',
  kind: 'classifier',
  description: "My CNN (the study author's): 2x Conv 32 5x5, MaxPool, Dropout .25, 2x Conv 64 3x3, MaxPool, Dropout .25, Dense 512, BatchNorm, Dropout .5, 10",
  inputShape: [28, 28, 1],
  build: (seed) =>
    classifier('mcnn', [
      conv2d(seed, 0, {
        filters: 32, kernel: 5, strides: 1, padding: 'same', activation: 'relu', name: 'conv1', inputShape: INPUT,
      }),
      conv2d(seed, 1, { filters: 32, kernel: 5, strides: 1, padding: 'same', activation: 'relu', name: 'conv2' }),
      maxPool('pool1'),
      seededDropout({ rate: 0.25, index: 0, name: 'dropout1' }),
      conv2d(seed, 2, { filters: 64, kernel: 3, strides: 1, padding: 'same', activation: 'relu', name: 'conv3' }),
      conv2d(seed, 3, { filters: 64, kernel: 3, strides: 1, padding: 'same', activation: 'relu', name: 'conv4' }),
      maxPool('pool2'),
      seededDropout({ rate: 0.25, index: 1, name: 'dropout2' }),
      tf.layers.flatten({ name: 'flatten' }),
      dense(seed, 4, { units: 512, activation: 'relu', name: 'dense1' }),
      batchNorm('batchnorm'),
      seededDropout({ rate: 0.5, index: 2, name: 'dropout3' }),
      dense(seed, 5, { units: CLASSES, activation: 'linear', name: 'logits' }),
    ]),
};

export const CLASSIFIERS: readonly ModelDef[] = [fcnn, scnn, bcnn, mcnn];
