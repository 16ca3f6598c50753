/** MaxPool and its gradient (native/pool.cc). */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../native-addon.js';
import { allF32, output, size, values, type Info, type Native } from './kernel.js';

const poolGeometry = (ci: tf.backend_util.Conv2DInfo): number[] | undefined =>
  ci.dataFormat !== 'channelsLast' || ci.dilationHeight !== 1 || ci.dilationWidth !== 1
    ? undefined
    : [
        ci.batchSize,
        ci.inHeight,
        ci.inWidth,
        ci.inChannels,
        ci.outHeight,
        ci.outWidth,
        ci.filterHeight,
        ci.filterWidth,
        ci.strideHeight,
        ci.strideWidth,
        ci.padInfo.top,
        ci.padInfo.left,
      ];

const poolInfo = (xShape: number[], attrs: tf.NamedAttrMap): tf.backend_util.Conv2DInfo | undefined =>
  xShape.length !== 4
    ? undefined
    : tf.backend_util.computePool2DInfo(
        xShape as [number, number, number, number],
        attrs['filterSize'] as [number, number],
        attrs['strides'] as [number, number],
        1,
        attrs['pad'] as 'valid',
        attrs['dimRoundingMode'] as 'floor' | undefined,
      );

export const maxPool =
  (addon: NativeAddon): Native =>
  ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: Info };
    if (!allF32(backend, x)) return undefined;
    const ci = poolInfo(x.shape, attrs);
    const geom = ci && poolGeometry(ci);
    if (ci === undefined || geom === undefined || size(ci.outShape) === 0) return undefined;
    const y = backend.alloc(size(ci.outShape));
    addon.maxPool(values(backend, x), y, geom);
    return output(backend, ci.outShape, y);
  };

export const maxPoolGrad =
  (addon: NativeAddon): Native =>
  ({ inputs, backend, attrs }) => {
    const { dy, input } = inputs as { dy: Info; input: Info };
    if (!allF32(backend, dy, input)) return undefined;
    const ci = poolInfo(input.shape, attrs);
    const geom = ci && poolGeometry(ci);
    if (ci === undefined || geom === undefined || size(input.shape) === 0) return undefined;
    const dx = backend.alloc(size(input.shape));
    addon.maxPoolGrad(values(backend, dy), values(backend, input), dx, geom);
    return output(backend, input.shape, dx);
  };
