/** FusedBatchNorm (native/norm.cc). */
import type { NativeAddon } from '../native-addon.js';
import { allF32, output, size, values, type Info, type Native } from './kernel.js';

export const batchNorm =
  (addon: NativeAddon): Native =>
  ({ inputs, backend, attrs }) => {
    const { x, mean, variance, offset, scale } = inputs as Record<string, Info | undefined>;
    if (x === undefined || mean === undefined || variance === undefined) return undefined;
    if (!allF32(backend, x, mean, variance, offset, scale)) return undefined;
    if ([mean, variance, offset, scale].some((t) => t != null && size(t.shape) === 0)) return undefined;
    const y = backend.alloc(size(x.shape));
    addon.batchNorm(
      values(backend, x),
      values(backend, mean),
      values(backend, variance),
      offset ? values(backend, offset) : null,
      scale ? values(backend, scale) : null,
      y,
      (attrs['varianceEpsilon'] as number | undefined) ?? 0.001,
    );
    return output(backend, x.shape, y);
  };
