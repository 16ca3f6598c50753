import * as tf from '@tensorflow/tfjs';
import { activationGradFromOutput } from './native-grads.js';

/**
 * A ReLU convolution layer's training forward, y = relu(conv(x, W) + b), as one kernel on `native`: the
 * native FusedConv2D, which runs oneDNN's plain convolution (the primitive Conv2D runs) and then adds the
 * bias and applies the ReLU in one pass over its output (native/conv.cc). TF.js fuses them only at
 * inference; while gradients are recorded, tf.fused.conv2d runs Conv2D, Add and Relu: two more kernels, two
 * more passes over the layer's output and two more tensors forward. Its gradient computes the ReLU's
 * gradient once, then each input's part only when asked: a model's first layer needs no gradient for its
 * input.
 *
 * Bit-identical to the composed kernels on every CPU, by construction: the same convolution primitive, then
 * the Add and Relu kernels' own float32 operations in the same order, so NaN stays NaN as in Relu; the
 * gradient runs the kernels the composed ops' gradients run (the activation gradient, Conv2DBackpropInput,
 * Conv2DBackpropFilter, the bias's sum over batch, rows and columns), on the same tensors. Before, oneDNN
 * added the bias and ReLU as post-ops, which its AVX2 kernel rounds differently (it starts the sum at the
 * bias) and which turn NaN into 0. The speed-ups in bench/README.md (SCNN and BCNN steps 0.84-0.91x of the
 * composed ones on an AVX-512 CPU) were measured with those post-ops, not with this pass.
 */

export const CONV_KERNEL = 'OptbenchConv2DBiasRelu';

/** The kernel: FusedConv2D of the same backend with a ReLU, whatever that kernel does (native or its fallback). */
export const convKernelConfig = (backendName: string): tf.KernelConfig => ({
  kernelName: CONV_KERNEL,
  backendName,
  kernelFunc: (args) => {
    const fused = tf.getKernel(tf.FusedConv2D, backendName);
    if (fused === undefined) throw new Error(`${CONV_KERNEL}: the ${backendName} backend has no ${tf.FusedConv2D} kernel`);
    return fused.kernelFunc({ ...args, attrs: { ...args.attrs, activation: 'relu' } });
  },
});

export const convGradConfig: tf.GradConfig = {
  kernelName: CONV_KERNEL,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    // Computed here, not in the closures: the tape runs each closure in its own tidy, which would dispose
    // a shared tensor made in the first (as in native-dense.ts).
    const dz = activationGradFromOutput('relu', y, Array.isArray(dy) ? dy[0]! : dy);
    const conv = { strides: attrs['strides'], pad: attrs['pad'], dataFormat: 'NHWC', dimRoundingMode: attrs['dimRoundingMode'] };
    const run = (kernel: string, inputs: tf.NamedTensorMap, shape: Record<string, number[]>): tf.Tensor =>
      tf.engine().runKernel(kernel, inputs, { ...conv, ...shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
    return {
      x: () => run(tf.Conv2DBackpropInput, { dy: dz, filter }, { inputShape: x.shape }),
      filter: () => run(tf.Conv2DBackpropFilter, { x, dy: dz }, { filterShape: filter.shape }),
      bias: () => tf.sum(dz, [0, 1, 2]),
    };
  },
};

export interface ConvGeometry {
  readonly strides: [number, number];
  readonly pad: 'same' | 'valid';
}

/**
 * relu(conv(x, W) + b) through the fused kernel when the active backend has it, the layer is a plain
 * float32 NHWC convolution without dilation, and gradients are being recorded; undefined otherwise (the
 * caller runs tf.fused.conv2d, as TF.js's layer does).
 */
export const fusedConvRelu = (x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor, g: ConvGeometry): tf.Tensor4D | undefined =>
  tf.getKernel(CONV_KERNEL, tf.getBackend()) !== undefined &&
  tf.engine().state.gradientDepth > 0 &&
  x.rank === 4 &&
  filter.rank === 4 &&
  bias.rank === 1 &&
  x.shape[3] === filter.shape[2] &&
  bias.shape[0] === filter.shape[3] &&
  [x, filter, bias].every((t) => t.dtype === 'float32')
    ? (tf.engine().runKernel(CONV_KERNEL, { x, filter, bias }, { strides: g.strides, pad: g.pad, dataFormat: 'NHWC', dilations: [1, 1] } as unknown as tf.NamedAttrMap) as tf.Tensor4D)
    : undefined;
