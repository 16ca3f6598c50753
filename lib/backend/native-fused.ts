import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native-addon.js';
import type { NativeBackend } from './native-backend.js';
import { size, values } from './native-kernels/kernel.js';

/**
 * Fused optimizer updates on the `native` backend. A composed Adam(ax) step is ~10 element-wise kernels per
 * variable, each a full pass over the parameters (for FCNN: 1M floats, 10 passes per step); the fused
 * kernel does it in one pass with the same float32 arithmetic in the same order, so the results are
 * bit-identical. Optimizers call `fusedAdamax` / `fusedAdam` / `fusedAdamw` / `fusedLion` and fall back to
 * their composed ops when it returns undefined (another backend is active, or a dtype other than float32).
 * Likewise `dropoutMask` draws a dropout multiplier in C++ instead of TF.js's per-element JavaScript generator.
 */

const ADAMAX_KERNEL = 'OptbenchAdamax';
const ADAM_KERNEL = 'OptbenchAdam';
const ADAMW_KERNEL = 'OptbenchAdamW';
const LION_KERNEL = 'OptbenchLion';
const DROPOUT_MASK_KERNEL = 'OptbenchDropoutMask';

/** The per-step scalars of Adamax, as the optimizer already holds them. */
export interface AdamaxScalars {
  readonly beta1: tf.Scalar;
  readonly oneMinusBeta1: tf.Scalar;
  readonly beta2: tf.Scalar;
  readonly eps: tf.Scalar;
  /** lr / (1 - beta1^t). */
  readonly step: tf.Scalar;
}

/** The per-step scalars of Adam, as the optimizer already holds them. */
export interface AdamScalars {
  readonly beta1: tf.Scalar;
  readonly oneMinusBeta1: tf.Scalar;
  readonly beta2: tf.Scalar;
  readonly oneMinusBeta2: tf.Scalar;
  readonly eps: tf.Scalar;
  /** The step size: lr sqrt(1 - beta2^t) / (1 - beta1^t) (epsilon-hat) or lr / (1 - beta1^t). */
  readonly alpha: tf.Scalar;
  /** 1 / (1 - beta2^t), used by the bias-corrected variant. */
  readonly invBc2: tf.Scalar;
}

/** The per-step scalars of AdamW, as the optimizer already holds them (modern-rules.ts). */
export interface AdamwScalars {
  readonly beta1: tf.Scalar;
  readonly oneMinusBeta1: tf.Scalar;
  readonly beta2: tf.Scalar;
  readonly oneMinusBeta2: tf.Scalar;
  readonly eps: tf.Scalar;
  /** 1 - lr * weightDecay. */
  readonly decay: tf.Scalar;
  /** lr / (1 - beta1^t). */
  readonly step: tf.Scalar;
  /** 1 / (1 - beta2^t). */
  readonly invBc2: tf.Scalar;
}

/** The per-step scalars of Lion, as the optimizer already holds them (modern-rules.ts). */
export interface LionScalars {
  readonly lr: tf.Scalar;
  readonly beta1: tf.Scalar;
  readonly oneMinusBeta1: tf.Scalar;
  readonly beta2: tf.Scalar;
  readonly oneMinusBeta2: tf.Scalar;
  /** 1 - lr * weightDecay. */
  readonly decay: tf.Scalar;
}

type Info = tf.TensorInfo;

/** A kernel reading (g, theta, slots..., scalars...) and writing theta and each slot (`outputs` arrays in all). */
const fusedKernel = (
  kernelName: string,
  backendName: string,
  outputs: number,
  run: (v: (name: string) => Float32Array, outs: readonly Float32Array[], attrs: tf.NamedAttrMap) => void,
): tf.KernelConfig => ({
  kernelName,
  backendName,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = backend as NativeBackend;
    const v = (name: string) => values(b, inputs[name] as Info);
    const shape = (inputs['theta'] as Info).shape;
    const n = v('theta').length;
    const outs = Array.from({ length: outputs }, () => b.alloc(n));
    run(v, outs, attrs ?? {});
    return outs.map((o) => b.adopt(shape, o));
  },
});

export const adamKernelConfig = (addon: NativeAddon, backendName: string): tf.KernelConfig =>
  fusedKernel(ADAM_KERNEL, backendName, 3, (v, outs, attrs) =>
    addon.adam(
      v('g'),
      v('theta'),
      v('m'),
      v('v'),
      outs[0]!,
      outs[1]!,
      outs[2]!,
      v('beta1')[0]!,
      v('oneMinusBeta1')[0]!,
      v('beta2')[0]!,
      v('oneMinusBeta2')[0]!,
      v('eps')[0]!,
      v('alpha')[0]!,
      v('invBc2')[0]!,
      attrs['variant'] === 'bias-corrected',
    ),
  );

export const adamaxKernelConfig = (addon: NativeAddon, backendName: string): tf.KernelConfig =>
  fusedKernel(ADAMAX_KERNEL, backendName, 3, (v, outs, attrs) =>
    addon.adamax(
      v('g'),
      v('theta'),
      v('m'),
      v('u'),
      outs[0]!,
      outs[1]!,
      outs[2]!,
      v('beta1')[0]!,
      v('oneMinusBeta1')[0]!,
      v('beta2')[0]!,
      v('eps')[0]!,
      v('step')[0]!,
      attrs['variant'] === 'torch',
    ),
  );

export const adamwKernelConfig = (addon: NativeAddon, backendName: string): tf.KernelConfig =>
  fusedKernel(ADAMW_KERNEL, backendName, 3, (v, outs) =>
    addon.adamw(
      v('g'),
      v('theta'),
      v('m'),
      v('v'),
      outs[0]!,
      outs[1]!,
      outs[2]!,
      v('beta1')[0]!,
      v('oneMinusBeta1')[0]!,
      v('beta2')[0]!,
      v('oneMinusBeta2')[0]!,
      v('eps')[0]!,
      v('decay')[0]!,
      v('step')[0]!,
      v('invBc2')[0]!,
    ),
  );

export const lionKernelConfig = (addon: NativeAddon, backendName: string): tf.KernelConfig =>
  fusedKernel(LION_KERNEL, backendName, 2, (v, outs) =>
    addon.lion(
      v('g'),
      v('theta'),
      v('m'),
      outs[0]!,
      outs[1]!,
      v('lr')[0]!,
      v('beta1')[0]!,
      v('oneMinusBeta1')[0]!,
      v('beta2')[0]!,
      v('oneMinusBeta2')[0]!,
      v('decay')[0]!,
    ),
  );

/** True when the active backend has the fused kernel and every tensor is float32 of theta's size. */
const fusable = (kernel: string, theta: tf.Tensor, slots: readonly tf.Tensor[], scalars: readonly tf.Tensor[]) =>
  tf.getKernel(kernel, tf.getBackend()) !== undefined &&
  [theta, ...slots, ...scalars].every((t) => t.dtype === 'float32') &&
  slots.every((t) => t.size === theta.size);

/**
 * One Adamax update of one variable: { theta, m, u } after the step, or undefined when the active backend
 * is not `native` (the caller then composes the update from element-wise ops).
 */
export const fusedAdamax = (
  g: tf.Tensor,
  theta: tf.Tensor,
  m: tf.Tensor,
  u: tf.Tensor,
  c: AdamaxScalars,
  variant: 'tfkeras' | 'torch',
): { theta: tf.Tensor; m: tf.Tensor; u: tf.Tensor } | undefined => {
  if (!fusable(ADAMAX_KERNEL, theta, [g, m, u], [c.beta1, c.oneMinusBeta1, c.beta2, c.eps, c.step])) return undefined;
  const [t, mm, uu] = tf.engine().runKernel(
    ADAMAX_KERNEL,
    { g, theta, m, u, beta1: c.beta1, oneMinusBeta1: c.oneMinusBeta1, beta2: c.beta2, eps: c.eps, step: c.step },
    { variant },
  ) as tf.Tensor[];
  return { theta: t!, m: mm!, u: uu! };
};

/**
 * One Adam update of one variable: { theta, m, v } after the step, or undefined when the active backend is
 * not `native` (the caller then composes the update from element-wise ops).
 */
export const fusedAdam = (
  g: tf.Tensor,
  theta: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  c: AdamScalars,
  variant: 'epsilon-hat' | 'bias-corrected',
): { theta: tf.Tensor; m: tf.Tensor; v: tf.Tensor } | undefined => {
  const scalars = [c.beta1, c.oneMinusBeta1, c.beta2, c.oneMinusBeta2, c.eps, c.alpha, c.invBc2];
  if (!fusable(ADAM_KERNEL, theta, [g, m, v], scalars)) return undefined;
  const [t, mm, vv] = tf.engine().runKernel(
    ADAM_KERNEL,
    {
      g,
      theta,
      m,
      v,
      beta1: c.beta1,
      oneMinusBeta1: c.oneMinusBeta1,
      beta2: c.beta2,
      oneMinusBeta2: c.oneMinusBeta2,
      eps: c.eps,
      alpha: c.alpha,
      invBc2: c.invBc2,
    },
    { variant },
  ) as tf.Tensor[];
  return { theta: t!, m: mm!, v: vv! };
};

/**
 * One AdamW update of one variable: { theta, m, v } after the step, or undefined when the active backend is
 * not `native` (the caller then composes the update from element-wise ops).
 */
export const fusedAdamw = (
  g: tf.Tensor,
  theta: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  c: AdamwScalars,
): { theta: tf.Tensor; m: tf.Tensor; v: tf.Tensor } | undefined => {
  const scalars = [c.beta1, c.oneMinusBeta1, c.beta2, c.oneMinusBeta2, c.eps, c.decay, c.step, c.invBc2];
  if (!fusable(ADAMW_KERNEL, theta, [g, m, v], scalars)) return undefined;
  const [t, mm, vv] = tf.engine().runKernel(ADAMW_KERNEL, { g, theta, m, v, ...c }, {}) as tf.Tensor[];
  return { theta: t!, m: mm!, v: vv! };
};

/**
 * One Lion update of one variable: { theta, m } after the step, or undefined when the active backend is not
 * `native` (the caller then composes the update from element-wise ops).
 */
export const fusedLion = (g: tf.Tensor, theta: tf.Tensor, m: tf.Tensor, c: LionScalars): { theta: tf.Tensor; m: tf.Tensor } | undefined => {
  if (!fusable(LION_KERNEL, theta, [g, m], [c.lr, c.beta1, c.oneMinusBeta1, c.beta2, c.oneMinusBeta2, c.decay])) return undefined;
  const [t, mm] = tf.engine().runKernel(LION_KERNEL, { g, theta, m, ...c }, {}) as tf.Tensor[];
  return { theta: t!, m: mm! };
};

export const dropoutMaskKernelConfig = (addon: NativeAddon, backendName: string): tf.KernelConfig => ({
  kernelName: DROPOUT_MASK_KERNEL,
  backendName,
  kernelFunc: ({ backend, attrs }) => {
    const b = backend as NativeBackend;
    const shape = attrs!['shape'] as number[];
    const out = b.alloc(size(shape));
    addon.dropoutMask(out, attrs!['rate'] as number, attrs!['seed'] as number);
    return b.adopt(shape, out);
  },
});

/**
 * The multiplier of inverted dropout, 1 / (1 - rate) with probability 1 - rate and 0 otherwise, drawn in
 * C++ from `seed` (an integer): `tf.mul(x, mask)` is then dropout. Undefined when the active backend is not
 * `native`; the caller then uses tf.dropout. The stream differs from tf.dropout's (TF.js draws with
 * seedrandom in JavaScript, ~30 ms per million values), so a run's masks depend on the backend.
 */
export const dropoutMask = (shape: readonly number[], rate: number, seed: number): tf.Tensor | undefined => {
  if (tf.getKernel(DROPOUT_MASK_KERNEL, tf.getBackend()) === undefined) return undefined;
  if (!(rate >= 0 && rate < 1) || !Number.isSafeInteger(seed)) return undefined;
  return tf.engine().runKernel(DROPOUT_MASK_KERNEL, {}, { shape: [...shape], rate, seed }) as tf.Tensor;
};
