import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native-addon.js';
import type { NativeBackend } from './native-backend.js';
import { opCode } from './native-ops.js';

/**
 * TF.js kernels of the `native` backend that run in C++ (native/*.cc). Each reads its inputs' Float32Arrays
 * in place and writes a fresh output array; any case it does not cover (other dtypes, NCHW, PReLU, odd
 * broadcasts) goes to the JavaScript kernel of the `cpu` backend, which shares the storage.
 */

type Backend = NativeBackend;
type Info = tf.TensorInfo;
type Fallback = tf.KernelFunc;
type Native = (args: { inputs: tf.NamedTensorInfoMap; backend: Backend; attrs: tf.NamedAttrMap }) => Info | undefined;

/** A float32 tensor's storage, read in place. */
export const values = (b: Backend, t: Info): Float32Array => b.data.get(t.dataId).values as Float32Array;

/** True when every tensor is float32 and stored as a Float32Array (not complex, not a string). */
const allF32 = (b: Backend, ...ts: (Info | undefined | null)[]): boolean =>
  ts.every((t) => t == null || (t.dtype === 'float32' && b.data.get(t.dataId).values instanceof Float32Array));

const output = (b: Backend, shape: number[], data: Float32Array): Info => b.adopt(shape, data);

export const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** TF.js's fused activations that the C++ kernels apply; PReLU is left to the JavaScript kernel. */
const FUSED_ACTIVATIONS: readonly string[] = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid'];

/** The C++ code of a fused activation ('linear' when there is none), or undefined where JavaScript computes it. */
const activationCode = (addon: NativeAddon, a: unknown): number | undefined =>
  a == null
    ? opCode(addon.ops.act, 'linear')
    : typeof a === 'string' && FUSED_ACTIVATIONS.includes(a)
      ? opCode(addon.ops.act, a)
      : undefined;

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

const conv2d =
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

const conv2dBackpropInput =
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

const conv2dBackpropFilter =
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

const matmul =
  (addon: NativeAddon, fused: boolean): Native =>
  ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: Info; b: Info };
    const bias = fused ? (inputs['bias'] as Info | undefined) : undefined;
    if (fused && inputs['preluActivationWeights'] != null) return undefined;
    const act = activationCode(addon, fused ? attrs['activation'] : undefined);
    if (act === undefined || !allF32(backend, a, b, bias) || a.shape.length < 2 || b.shape.length < 2)
      return undefined;
    const ta = attrs['transposeA'] === true;
    const tb = attrs['transposeB'] === true;
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = ta ? a.shape[ra - 1]! : a.shape[ra - 2]!;
    const k = ta ? a.shape[ra - 2]! : a.shape[ra - 1]!;
    const k2 = tb ? b.shape[rb - 1]! : b.shape[rb - 2]!;
    const n = tb ? b.shape[rb - 2]! : b.shape[rb - 1]!;
    if (k !== k2) return undefined;
    const batchA = a.shape.slice(0, -2);
    const batchB = b.shape.slice(0, -2);
    const ba = size(batchA);
    const bb = size(batchB);
    // Batches pair one to one, or one side has a single matrix; other broadcasts go to JavaScript.
    const sameBatch = batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i]);
    if (!sameBatch && ba !== 1 && bb !== 1) return undefined;
    const batchShape = tf.backend_util.assertAndGetBroadcastShape(batchA, batchB);
    const outShape = [...batchShape, m, n];
    if (bias != null) {
      const bs = size(bias.shape);
      if (!(bs === 1 || (bs === n && bias.shape[bias.shape.length - 1] === n))) return undefined;
    }
    if (m * n * k === 0 && size(outShape) !== 0 && k !== 0) return undefined;
    const out = backend.alloc(size(outShape));
    if (out.length > 0) {
      const alpha = (attrs['leakyreluAlpha'] as number | undefined) ?? 0.2;
      addon.matmul(
        values(backend, a),
        values(backend, b),
        out,
        [ba, bb, m, n, k, ta ? 1 : 0, tb ? 1 : 0],
        bias ? values(backend, bias) : null,
        act,
        alpha,
      );
    }
    return output(backend, outShape, out);
  };

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

const maxPool =
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

const maxPoolGrad =
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

const unary =
  (addon: NativeAddon, op: number): Native =>
  ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: Info };
    if (!allF32(backend, x)) return undefined;
    const y = backend.alloc(size(x.shape));
    addon.unary(op, values(backend, x), y, (attrs['alpha'] as number | undefined) ?? 0);
    return output(backend, x.shape, y);
  };

const binary =
  (addon: NativeAddon, op: number): Native =>
  ({ inputs, backend }) => {
    const { a, b } = inputs as { a: Info; b: Info };
    if (!allF32(backend, a, b)) return undefined;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = backend.alloc(size(outShape));
    addon.binary(op, values(backend, a), a.shape, values(backend, b), b.shape, out, outShape);
    return output(backend, outShape, out);
  };

const addN =
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

const tile =
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

/**
 * Views x as [outer, reduce, inner] for the given axes, when the reduced axes form one block once
 * size-1 axes are ignored; otherwise undefined (the JavaScript kernel transposes instead).
 */
export const reductionBlock = (
  shape: readonly number[],
  axes: readonly number[],
): { outer: number; reduce: number; inner: number } | undefined => {
  const reduced = new Set(axes);
  const runs: { kind: boolean; size: number }[] = [];
  shape.forEach((d, i) => {
    if (d === 1) return;
    const kind = reduced.has(i);
    const last = runs[runs.length - 1];
    if (last !== undefined && last.kind === kind) last.size *= d;
    else runs.push({ kind, size: d });
  });
  const pattern = runs.map((r) => (r.kind ? 'R' : 'K')).join('');
  const at = (i: number) => runs[i]!.size;
  switch (pattern) {
    case '':
      return { outer: 1, reduce: 1, inner: 1 };
    case 'R':
      return { outer: 1, reduce: at(0), inner: 1 };
    case 'K':
      return { outer: at(0), reduce: 1, inner: 1 };
    case 'KR':
      return { outer: at(0), reduce: at(1), inner: 1 };
    case 'RK':
      return { outer: 1, reduce: at(0), inner: at(1) };
    case 'KRK':
      return { outer: at(0), reduce: at(1), inner: at(2) };
    default:
      return undefined;
  }
};

const reduction =
  (addon: NativeAddon, op: number, axisAttr: string): Native =>
  ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: Info };
    if (!allF32(backend, x) || size(x.shape) === 0) return undefined;
    const axes = tf.util.parseAxisParam(attrs[axisAttr] as number | number[], x.shape);
    const block = reductionBlock(x.shape, axes);
    if (block === undefined) return undefined;
    const [outShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
    const shape = attrs['keepDims'] === true ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    const out = backend.alloc(size(outShape));
    addon.reduce(op, values(backend, x), out, block.outer, block.reduce, block.inner);
    return output(backend, shape, out);
  };

const argMax =
  (addon: NativeAddon): Native =>
  ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: Info };
    if (!allF32(backend, x) || size(x.shape) === 0) return undefined;
    const axes = tf.util.parseAxisParam(attrs['axis'] as number | number[], x.shape);
    if (axes.length !== 1 || axes[0] !== x.shape.length - 1) return undefined;
    const reduce = x.shape[x.shape.length - 1]!;
    const outShape = x.shape.slice(0, -1);
    const out = new Int32Array(size(outShape));
    addon.argMax(values(backend, x), out, out.length, reduce);
    return backend.makeTensorInfo(outShape, 'int32', out);
  };

const softmax =
  (addon: NativeAddon): Native =>
  ({ inputs, backend, attrs }) => {
    const { logits } = inputs as { logits: Info };
    const rank = logits.shape.length;
    const dim = attrs['dim'] as number;
    if (!allF32(backend, logits) || rank === 0 || (dim !== -1 && dim !== rank - 1) || size(logits.shape) === 0)
      return undefined;
    const cols = logits.shape[rank - 1]!;
    const y = backend.alloc(size(logits.shape));
    addon.softmax(values(backend, logits), y, y.length / cols, cols);
    return output(backend, logits.shape, y);
  };

const batchNorm =
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
    const fallback: Fallback = cpu.kernelFunc;
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
