/** Conv2D, FusedConv2D and their two gradients through oneDNN (native/conv.cc). */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../native-addon.js';
import { activationCode, allF32, output, size, values, type Info, type Native } from './kernel.js';

/** oneDNN checks that pads, strides and sizes agree; TF.js's 'ceil'/'round' rounding modes may not. */
const consistent = (inSize: number, out: number, k: number, stride: number, dil: number, lo: number, hi: number) =>
  Math.floor((inSize + lo + hi - ((k - 1) * dil + 1)) / stride) + 1 === out;

/** The addon's 17-number geometry of a convolution (see NativeAddon.conv2d), or undefined where the C++ side declines it. */
export const convGeometry = (ci: tf.backend_util.Conv2DInfo): number[] | undefined => {
  const p = ci.padInfo;
  if (ci.dataFormat !== 'channelsLast') return undefined;
  if (
    !consistent(ci.inHeight, ci.outHeight, ci.filterHeight, ci.strideHeight, ci.dilationHeight, p.top, p.bottom) ||
    !consistent(ci.inWidth, ci.outWidth, ci.filterWidth, ci.strideWidth, ci.dilationWidth, p.left, p.right)
  )
    return undefined;
  const g = [
    ci.batchSize,
    ci.inHeight,
    ci.inWidth,
    ci.inChannels,
    ci.outHeight,
    ci.outWidth,
    ci.outChannels,
    ci.filterHeight,
    ci.filterWidth,
    ci.strideHeight,
    ci.strideWidth,
    ci.dilationHeight,
    ci.dilationWidth,
    p.top,
    p.left,
    p.bottom,
    p.right,
  ];
  return g.slice(0, 13).every((v) => v > 0) ? g : undefined;
};

const convInfo = (
  xShape: number[],
  filterShape: number[],
  attrs: tf.NamedAttrMap,
  dilations: number | [number, number] = 1,
): tf.backend_util.Conv2DInfo | undefined => {
  const dataFormat = (attrs['dataFormat'] as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC';
  if (xShape.length !== 4 || filterShape.length !== 4 || dataFormat !== 'NHWC') return undefined;
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs['strides'] as [number, number],
    dilations,
    attrs['pad'] as 'valid',
    attrs['dimRoundingMode'] as 'floor' | undefined,
    false,
    'channelsLast',
  );
};

export const conv2d =
  (addon: NativeAddon, fused: boolean): Native =>
  ({ inputs, backend, attrs }) => {
    const { x, filter } = inputs as { x: Info; filter: Info };
    const bias = fused ? (inputs['bias'] as Info | undefined) : undefined;
    if (fused && inputs['preluActivationWeights'] != null) return undefined;
    const act = activationCode(addon, fused ? attrs['activation'] : undefined);
    if (act === undefined || !allF32(backend, x, filter, bias)) return undefined;
    const ci = convInfo(x.shape, filter.shape, attrs, (attrs['dilations'] as [number, number]) ?? 1);
    const geom = ci && convGeometry(ci);
    if (ci === undefined || geom === undefined) return undefined;
    if (bias != null && size(bias.shape) !== ci.outChannels) return undefined;
    const y = backend.alloc(size(ci.outShape));
    const alpha = (attrs['leakyreluAlpha'] as number | undefined) ?? 0.2;
    addon.conv2d(values(backend, x), values(backend, filter), bias ? values(backend, bias) : null, y, geom, act, alpha);
    return output(backend, ci.outShape, y);
  };

export const conv2dBackpropInput =
  (addon: NativeAddon): Native =>
  ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: Info; filter: Info };
    if (!allF32(backend, dy, filter)) return undefined;
    const inputShape = attrs['inputShape'] as number[];
    const ci = convInfo(inputShape, filter.shape, attrs);
    const geom = ci && convGeometry(ci);
    if (ci === undefined || geom === undefined) return undefined;
    const dx = backend.alloc(size(inputShape));
    addon.conv2dBackpropInput(values(backend, dy), values(backend, filter), dx, geom);
    return output(backend, inputShape, dx);
  };

export const conv2dBackpropFilter =
  (addon: NativeAddon): Native =>
  ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: Info; dy: Info };
    if (!allF32(backend, x, dy)) return undefined;
    const filterShape = attrs['filterShape'] as number[];
    const ci = convInfo(x.shape, filterShape, attrs);
    const geom = ci && convGeometry(ci);
    if (ci === undefined || geom === undefined) return undefined;
    const dw = backend.alloc(size(filterShape));
    addon.conv2dBackpropFilter(values(backend, x), values(backend, dy), dw, geom);
    return output(backend, filterShape, dw);
  };
