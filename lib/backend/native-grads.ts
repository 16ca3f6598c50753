import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native-addon.js';
import type { NativeBackend } from './native-backend.js';
import { values } from './native-kernels/kernel.js';
import { opCode, type GradActivation } from './native-ops.js';

/**
 * Activation gradients in one pass on `native`. TF.js's gradients of Tanh, Sigmoid and Relu are three
 * element-wise ops each (e.g. tanh: square, subtract from 1, multiply by dy), three passes over the
 * activation and two temporaries; `OptbenchActivationGrad` does the same float32 operations in the same
 * order in one pass, so the result is bit-identical.
 *
 * The gradients below replace TF.js's registered ones for these three kernels (tf.registerGradient is
 * global). They use the fused kernel only when the active backend has it and no outer tape is recording
 * (a gradient of a gradient needs differentiable ops); otherwise they compute TF.js's own expression.
 */

const ACTIVATION_GRAD_KERNEL = 'OptbenchActivationGrad';

type Activation = GradActivation;

type Info = tf.TensorInfo;

export const activationGradKernelConfig = (addon: NativeAddon, backendName: string): tf.KernelConfig => ({
  kernelName: ACTIVATION_GRAD_KERNEL,
  backendName,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = backend as NativeBackend;
    const v = values(b, inputs['v'] as Info);
    const dx = b.alloc(v.length);
    addon.activationGrad(opCode(addon.ops.activationGrad, attrs!['activation'] as Activation), v, values(b, inputs['dy'] as Info), dx);
    return b.adopt((inputs['v'] as Info).shape, dx);
  },
});

/** The fused gradient, or undefined where it does not apply (see above). */
const fused = (activation: Activation, v: tf.Tensor, dy: tf.Tensor): tf.Tensor | undefined =>
  tf.getKernel(ACTIVATION_GRAD_KERNEL, tf.getBackend()) !== undefined &&
  tf.engine().state.gradientDepth === 0 &&
  v.dtype === 'float32' &&
  dy.dtype === 'float32' &&
  tf.util.arraysEqual(v.shape, dy.shape)
    ? (tf.engine().runKernel(ACTIVATION_GRAD_KERNEL, { v, dy }, { activation }) as tf.Tensor)
    : undefined;

const one = (dy: tf.Tensor | tf.Tensor[]): tf.Tensor => (Array.isArray(dy) ? dy[0]! : dy);

/**
 * The gradient through an activation from its output y (relu's step(y) equals step(x): y > 0 exactly where
 * x > 0, and NaN stays NaN), with the same operations as the registered gradients below.
 */
export const activationGradFromOutput = (activation: Activation | 'linear', y: tf.Tensor, dy: tf.Tensor): tf.Tensor => {
  switch (activation) {
    case 'linear':
      return dy;
    case 'tanh':
      return fused('tanh', y, dy) ?? tf.mul(tf.sub(tf.scalar(1), tf.square(y)), dy);
    case 'sigmoid':
      return fused('sigmoid', y, dy) ?? tf.mul(dy, tf.mul(y, tf.sub(tf.scalar(1), y)));
    case 'relu':
      return fused('relu', y, dy) ?? tf.mul(dy, tf.cast(tf.step(y), 'float32'));
  }
};

/** Gradient configs for Tanh, Sigmoid and Relu: TF.js's own formulas, fused where possible. */
export const activationGradConfigs: readonly tf.GradConfig[] = [
  {
    kernelName: tf.Tanh,
    outputsToSave: [true],
    gradFunc: (dy, [y]) => ({
      x: () => fused('tanh', y!, one(dy)) ?? tf.mul(tf.sub(tf.scalar(1), tf.square(y!)), one(dy)),
    }),
  },
  {
    kernelName: tf.Sigmoid,
    outputsToSave: [true],
    gradFunc: (dy, [y]) => ({
      x: () => fused('sigmoid', y!, one(dy)) ?? tf.mul(one(dy), tf.mul(y!, tf.sub(tf.scalar(1), y!))),
    }),
  },
  {
    kernelName: tf.Relu,
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({
      x: () => fused('relu', x!, one(dy)) ?? tf.mul(one(dy), tf.cast(tf.step(x!), 'float32')),
    }),
  },
];
