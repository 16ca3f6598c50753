/** Element-wise kernels: the unary and binary ops of native/ops.h by code, AddN and Tile (native/elementwise.cc). */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../native-addon.js';
import { allF32, output, size, values, type Info, type Native } from './kernel.js';

export const unary =
  (addon: NativeAddon, op: number): Native =>
  ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: Info };
    if (!allF32(backend, x)) return undefined;
    const y = backend.alloc(size(x.shape));
    addon.unary(op, values(backend, x), y, (attrs['alpha'] as number | undefined) ?? 0);
    return output(backend, x.shape, y);
  };

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

export const addN =
  (addon: NativeAddon): Native =>
  ({ inputs, backend }) => {
    const xs = Object.values(inputs) as Info[];
    const first = xs[0];
    if (first === undefined || !allF32(backend, ...xs)) return undefined;
    if (!xs.every((t) => t.shape.length === first.shape.length && t.shape.every((d, i) => d === first.shape[i])))
      return undefined;
    const out = backend.alloc(size(first.shape));
    addon.addN(
      xs.map((t) => values(backend, t)),
      out,
    );
    return output(backend, first.shape, out);
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
