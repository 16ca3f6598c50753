/**
 * The element-wise kernels the native specs check against TF.js's JavaScript kernels, with the input range
 * each is checked on. spec/native-ops.spec.ts checks that these are every op native/ops.h lists, so an op
 * added there without a case here fails.
 */
import * as tf from '@tensorflow/tfjs';

export const UNARY_CASES: [string, (x: tf.Tensor) => tf.Tensor, number, number][] = [
  ['Exp', tf.exp, -10, 10],
  ['Log', tf.log, 1e-3, 10],
  ['Sqrt', tf.sqrt, 0, 10],
  ['Rsqrt', tf.rsqrt, 1e-3, 10],
  ['Square', tf.square, -10, 10],
  ['Abs', tf.abs, -10, 10],
  ['Neg', tf.neg, -10, 10],
  ['Relu', tf.relu, -10, 10],
  ['Relu6', tf.relu6, -10, 10],
  ['Sigmoid', tf.sigmoid, -20, 20],
  ['Tanh', tf.tanh, -10, 10],
  ['Softplus', tf.softplus, -30, 30],
  ['Step', (x) => tf.step(x, 0.25), -3, 3],
  ['Reciprocal', tf.reciprocal, 0.1, 10],
  ['Floor', tf.floor, -10, 10],
  ['Sign', tf.sign, -2, 2],
  ['Elu', tf.elu, -5, 5],
  ['LeakyRelu', (x) => tf.leakyRelu(x, 0.3), -5, 5],
  ['Log1p', tf.log1p, -0.9, 10],
  ['Expm1', tf.expm1, -5, 5],
];

export const BINARY_CASES: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, number, number][] = [
  ['Add', tf.add, -10, 10],
  ['Sub', tf.sub, -10, 10],
  ['Multiply', tf.mul, -10, 10],
  ['RealDiv', tf.div, 0.5, 10],
  ['Maximum', tf.maximum, -10, 10],
  ['Minimum', tf.minimum, -10, 10],
  ['SquaredDifference', tf.squaredDifference, -10, 10],
  ['Pow', tf.pow, 0.1, 3],
];
