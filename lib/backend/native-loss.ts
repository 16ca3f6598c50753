import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native-addon.js';
import type { NativeBackend } from './native-backend.js';
import { values } from './native-kernels/kernel.js';

/**
 * The classifiers' loss on `native` in one kernel: the mean softmax cross-entropy of logits [rows,
 * classes] against int32 labels, as tf.losses.softmaxCrossEntropy(tf.oneHot(labels, classes), logits)
 * with mean reduction computes it. TF.js composes it from 22 kernels forward and 13 backward (FCNN's step:
 * 35 of 75 kernels, each tens of microseconds of JavaScript); native/loss.cc does the same float32
 * operations in the same order, so loss and gradient are bit-identical to the composed ones (spec).
 */

export const SOFTMAX_CE_KERNEL = 'OptbenchSoftmaxCrossEntropy';
export const SOFTMAX_CE_GRAD_KERNEL = 'OptbenchSoftmaxCrossEntropyGrad';

type Info = tf.TensorInfo;

const labelValues = (b: NativeBackend, t: Info): Int32Array => b.data.get(t.dataId).values as Int32Array;

export const softmaxCrossEntropyKernelConfigs = (addon: NativeAddon, backendName: string): tf.KernelConfig[] => [
  {
    kernelName: SOFTMAX_CE_KERNEL,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as NativeBackend;
      const { logits, labels } = inputs as { logits: Info; labels: Info };
      const [rows, cols] = logits.shape as [number, number];
      const out = new Float32Array(1);
      addon.softmaxCrossEntropy(values(b, logits), labelValues(b, labels), out, rows, cols);
      return b.makeTensorInfo([], 'float32', out);
    },
  },
  {
    kernelName: SOFTMAX_CE_GRAD_KERNEL,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as NativeBackend;
      const { logits, labels, dy } = inputs as { logits: Info; labels: Info; dy: Info };
      const [rows, cols] = logits.shape as [number, number];
      const dx = b.alloc(rows * cols);
      addon.softmaxCrossEntropyGrad(values(b, logits), labelValues(b, labels), values(b, dy)[0]!, dx, rows, cols);
      return b.adopt([rows, cols], dx);
    },
  },
];

export const softmaxCrossEntropyGradConfig: tf.GradConfig = {
  kernelName: SOFTMAX_CE_KERNEL,
  inputsToSave: ['logits', 'labels'],
  gradFunc: (dy, saved) => {
    const [logits, labels] = saved as [tf.Tensor2D, tf.Tensor1D];
    return {
      logits: () => tf.engine().runKernel(SOFTMAX_CE_GRAD_KERNEL, { logits, labels, dy: dy as tf.Tensor }) as tf.Tensor,
      labels: () => tf.zerosLike(labels),
    };
  },
};

/**
 * The mean softmax cross-entropy through the fused kernel, when the active backend has it, the logits are
 * float32 [rows, classes], the labels int32 [rows], and no gradient of a gradient is being taken; else
 * undefined (the caller composes TF.js's ops).
 */
export const fusedSoftmaxCrossEntropy = (logits: tf.Tensor, labels: tf.Tensor, classes: number): tf.Scalar | undefined =>
  tf.getKernel(SOFTMAX_CE_KERNEL, tf.getBackend()) !== undefined &&
  tf.engine().state.gradientDepth <= 1 &&
  logits.rank === 2 &&
  logits.dtype === 'float32' &&
  logits.shape[1] === classes &&
  classes >= 2 && // tf.oneHot refuses depth 1: keep its error
  labels.rank === 1 &&
  labels.dtype === 'int32' &&
  labels.shape[0] === logits.shape[0] &&
  logits.shape[0]! >= 1
    ? (tf.engine().runKernel(SOFTMAX_CE_KERNEL, { logits, labels }) as tf.Scalar)
    : undefined;
