/** BatchMatMul and _FusedMatMul through oneDNN's sgemm, with TF.js's bias and activation (native/matmul.cc). */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../native-addon.js';
import { activationCode, allF32, output, size, values, type Info, type Native } from './kernel.js';

export const matmul =
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
