/**
 * What every native kernel shares: a float32 tensor's storage read in place, the check that a case is
 * float32 throughout, and the shape of a kernel that may decline (returning undefined) so that the
 * JavaScript kernel of the `cpu` backend, which shares the storage, computes the case instead.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../native-addon.js';
import type { NativeBackend } from '../native-backend.js';
import { opCode } from '../native-ops.js';

type Backend = NativeBackend;
export type Info = tf.TensorInfo;
/** A native implementation: its output, or undefined to leave the case to the JavaScript kernel. */
export type Native = (args: { inputs: tf.NamedTensorInfoMap; backend: Backend; attrs: tf.NamedAttrMap }) => Info | undefined;

/** A float32 tensor's storage, read in place. */
export const values = (b: Backend, t: Info): Float32Array => b.data.get(t.dataId).values as Float32Array;

/** True when every tensor is float32 and stored as a Float32Array (not complex, not a string). */
export const allF32 = (b: Backend, ...ts: (Info | undefined | null)[]): boolean =>
  ts.every((t) => t == null || (t.dtype === 'float32' && b.data.get(t.dataId).values instanceof Float32Array));

export const output = (b: Backend, shape: number[], data: Float32Array): Info => b.adopt(shape, data);

export const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/**
 * TF.js's fused activations that the C++ convolutions and products apply; PReLU is left to the JavaScript
 * kernel. (The `act` table also has tanh, for OptbenchDense: TF.js never fuses it, and the convolutions'
 * oneDNN post-ops do not apply it.)
 */
const FUSED_ACTIVATIONS: readonly string[] = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid'];

/** The C++ code of a fused activation ('linear' when there is none), or undefined where JavaScript computes it. */
export const activationCode = (addon: NativeAddon, a: unknown): number | undefined =>
  a == null
    ? opCode(addon.ops.act, 'linear')
    : typeof a === 'string' && FUSED_ACTIVATIONS.includes(a)
      ? opCode(addon.ops.act, a)
      : undefined;
