/** Element-wise kernels: the unary ops of native/ops.h by code, and AddN (native/elementwise.cc). */
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
