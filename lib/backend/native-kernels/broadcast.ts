/** Kernels that broadcast: the binary ops of native/ops.h by code, and Tile (native/broadcast.cc). */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../native-addon.js';
import { allF32, output, size, values, type Info, type Native } from './kernel.js';

export const binary =
  (addon: NativeAddon, op: number): Native =>
  ({ inputs, backend }) => {
    const { a, b } = inputs as { a: Info; b: Info };
    if (!allF32(backend, a, b)) return undefined;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = backend.alloc(size(outShape));
    addon.binary(op, values(backend, a), a.shape, values(backend, b), b.shape, out, outShape);
    return output(backend, outShape, out);
  };

export const tile =
  (addon: NativeAddon): Native =>
  ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: Info };
    const reps = attrs['reps'] as number[];
    if (!allF32(backend, x) || x.shape.length === 0 || reps.length !== x.shape.length) return undefined;
    const outShape = x.shape.map((d, i) => d * reps[i]!);
    const out = backend.alloc(size(outShape));
    addon.tile(values(backend, x), x.shape, out, reps);
    return output(backend, outShape, out);
  };
