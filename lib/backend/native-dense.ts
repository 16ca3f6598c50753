import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native-addon.js';
import type { NativeBackend } from './native-backend.js';
import { activationGradFromOutput } from './native-grads.js';
import { values } from './native-kernels/kernel.js';
import { opCode } from './native-ops.js';

/**
 * A Dense layer's training forward, y = activation(x W + b), as one kernel on `native`: the product, the
 * bias and the activation in one C++ call (the matmul's epilogue) instead of three kernels. Its gradient
 * computes the activation's gradient once, and each input's part only when asked (a model's first layer
 * needs no gradient for its input). FCNN's step is about a hundred kernels of a few tens of microseconds
 * of JavaScript each, so kernels saved are time saved.
 *
 * Bit-identical to the composed kernels: the same product (the addon's matmul), the same float32 bias
 * addition, the same activation formulas (native/elementwise.cc `ApplyActivation` is the unary kernels'
 * own); the gradient runs the same kernels the composed ops' gradients run (activation gradient, the two
 * products, the bias's sum over the batch).
 */

export const DENSE_KERNEL = 'OptbenchDense';

type DenseActivation = 'linear' | 'relu' | 'sigmoid' | 'tanh';

export const denseKernelConfig = (addon: NativeAddon, backendName: string): tf.KernelConfig => ({
  kernelName: DENSE_KERNEL,
  backendName,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = backend as NativeBackend;
    const { x, w, b: bias } = inputs as { x: tf.TensorInfo; w: tf.TensorInfo; b: tf.TensorInfo };
    const [m, k] = x.shape as [number, number];
    const n = w.shape[1]!;
    const out = b.alloc(m * n);
    const act = opCode(addon.ops.act, attrs!['activation'] as DenseActivation);
    addon.matmul(values(b, x), values(b, w), out, [1, 1, m, n, k, 0, 0], values(b, bias), act, 0);
    return b.adopt([m, n], out);
  },
});

export const denseGradConfig: tf.GradConfig = {
  kernelName: DENSE_KERNEL,
  inputsToSave: ['x', 'w'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, w, y] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    // Computed here, not in the closures: the tape runs each closure in its own tidy, which would dispose
    // a shared tensor made in the first. The weights' gradient always needs it.
    const dz = activationGradFromOutput(attrs['activation'] as DenseActivation, y, Array.isArray(dy) ? dy[0]! : dy);
    return {
      x: () => tf.matMul(dz, w, false, true),
      w: () => tf.matMul(x, dz, true, false),
      b: () => tf.sum(dz, 0),
    };
  },
};

/**
 * activation(x W + b) through the fused kernel when the active backend has it and the shapes are a plain
 * 2-D layer in float32; undefined otherwise (the caller composes the same ops).
 */
export const fusedDense = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, activation: DenseActivation): tf.Tensor2D | undefined =>
  tf.getKernel(DENSE_KERNEL, tf.getBackend()) !== undefined &&
  x.rank === 2 &&
  w.rank === 2 &&
  b.rank === 1 &&
  x.shape[1] === w.shape[0] &&
  b.shape[0] === w.shape[1] &&
  [x, w, b].every((t) => t.dtype === 'float32')
    ? (tf.engine().runKernel(DENSE_KERNEL, { x, w, b }, { activation }) as tf.Tensor2D)
    : undefined;
