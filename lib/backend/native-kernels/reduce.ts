/** Reductions, ArgMax and Softmax (native/reduce.cc). */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../native-addon.js';
import { allF32, output, size, values, type Info, type Native } from './kernel.js';

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

export const reduction =
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

export const argMax =
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

export const softmax =
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
