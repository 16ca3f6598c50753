import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native-addon.js';
import { opCode } from './native-ops.js';
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput } from './native-kernels/conv.js';
import { binary, tile } from './native-kernels/broadcast.js';
import { addN, unary } from './native-kernels/elementwise.js';
import type { Info, Native } from './native-kernels/kernel.js';
import { matmul } from './native-kernels/matmul.js';
import { batchNorm } from './native-kernels/norm.js';
import { maxPool, maxPoolGrad } from './native-kernels/pool.js';
import { argMax, reduction, softmax } from './native-kernels/reduce.js';

/**
 * TF.js kernels of the `native` backend that run in C++ (native/*.cc). Each reads its inputs' Float32Arrays
 * in place and writes a fresh output array; any case it does not cover (other dtypes, NCHW, PReLU, odd
 * broadcasts) goes to the JavaScript kernel of the `cpu` backend, which shares the storage. The kernels
 * live in native-kernels/, one file per family, as the C++ side does (conv, matmul, pool, elementwise,
 * broadcast, reduce, norm); this file registers them.
 */

let declined = 0;

/**
 * How many calls of a natively implemented kernel went to its JavaScript fallback so far (a case the C++
 * side does not cover, or a configuration oneDNN refused). Tests use it to tell C++ from fallback.
 */
export const nativeFallbacks = (): number => declined;

/** The native implementations, keyed by TF.js kernel name. */
export const nativeImplementations = (addon: NativeAddon): ReadonlyMap<string, Native> => {
  const m = new Map<string, Native>([
    ['Conv2D', conv2d(addon, false)],
    ['FusedConv2D', conv2d(addon, true)],
    ['Conv2DBackpropInput', conv2dBackpropInput(addon)],
    ['Conv2DBackpropFilter', conv2dBackpropFilter(addon)],
    ['BatchMatMul', matmul(addon, false)],
    ['_FusedMatMul', matmul(addon, true)],
    ['MaxPool', maxPool(addon)],
    ['MaxPoolGrad', maxPoolGrad(addon)],
    ['AddN', addN(addon)],
    ['Tile', tile(addon)],
    ['Sum', reduction(addon, opCode(addon.ops.reduce, 'Sum'), 'axis')],
    ['Mean', reduction(addon, opCode(addon.ops.reduce, 'Mean'), 'axis')],
    ['Max', reduction(addon, opCode(addon.ops.reduce, 'Max'), 'reductionIndices')],
    ['Min', reduction(addon, opCode(addon.ops.reduce, 'Min'), 'axis')],
    ['ArgMax', argMax(addon)],
    ['Softmax', softmax(addon)],
    ['FusedBatchNorm', batchNorm(addon)],
  ]);
  // The element-wise kernels are those native/ops.h lists, by TF.js kernel name.
  for (const [name, op] of Object.entries(addon.ops.unary)) m.set(name, unary(addon, op));
  for (const [name, op] of Object.entries(addon.ops.binary)) m.set(name, binary(addon, op));
  return m;
};

/**
 * Kernel configs for `backendName`: every `cpu` kernel, with the native implementation in front where
 * there is one (falling back to the JavaScript kernel when it declines a case).
 */
export const nativeKernelConfigs = (addon: NativeAddon, backendName: string): tf.KernelConfig[] => {
  const impls = nativeImplementations(addon);
  return tf.getKernelsForBackend('cpu').map((cpu): tf.KernelConfig => {
    const impl = impls.get(cpu.kernelName);
    if (impl === undefined) return { ...cpu, backendName };
    const fallback: tf.KernelFunc = cpu.kernelFunc;
    const kernelFunc: tf.KernelFunc = (args) => {
      let out: Info | undefined;
      try {
        out = impl({ ...(args as Parameters<Native>[0]), attrs: args.attrs ?? {} });
      } catch (e) {
        // oneDNN may refuse a configuration (an unusual dilation or padding): the JavaScript kernel still
        // computes it. Anything else is a bug here and is thrown.
        if (!(e instanceof Error && e.message.startsWith('oneDNN'))) throw e;
      }
      if (out !== undefined) return out;
      declined++;
      return fallback(args) as Info | Info[];
    };
    return { ...cpu, backendName, kernelFunc };
  });
};
