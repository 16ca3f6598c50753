import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { installFastCpuKernels } from '../lib/backend/cpu-kernels.js';

// The replacement cpu Conv2DBackpropFilter against the weight gradient written out from its definition:
// dW[r][c][i][o] = sum over b, y, x of input[b][y*s - pad + r][x*s - pad + c][i] * dy[b][y][x][o].

const reference = (
  x: Float32Array, xs: number[], dy: Float32Array, dys: number[], fh: number, fw: number, stride: number, top: number, left: number,
): Float64Array => {
  const [n, h, w, ci] = xs as [number, number, number, number];
  const [, oh, ow, co] = dys as [number, number, number, number];
  const out = new Float64Array(fh * fw * ci * co);
  for (let r = 0; r < fh; r++)
    for (let c = 0; c < fw; c++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) {
          let s = 0;
          for (let b = 0; b < n; b++)
            for (let y = 0; y < oh; y++)
              for (let q = 0; q < ow; q++) {
                const yy = y * stride - top + r;
                const xx = q * stride - left + c;
                if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                s += x[((b * h + yy) * w + xx) * ci + i]! * dy[((b * oh + y) * ow + q) * co + o]!;
              }
          out[((r * fw + c) * ci + i) * co + o] = s;
        }
  return out;
};

describe('cpu backend: flat Conv2DBackpropFilter', () => {
  before(async () => {
    installFastCpuKernels();
    await tf.setBackend('cpu');
  });

  const cases: Array<[string, number[], number, number, number, 'valid' | 'same']> = [
    ['3x3 valid stride 1', [2, 7, 7, 3], 3, 4, 1, 'valid'],
    ['3x3 same stride 2 (odd size: TensorFlow pads bottom/right)', [2, 7, 7, 3], 3, 5, 2, 'same'],
    ['5x5 same stride 1', [1, 6, 5, 2], 5, 3, 1, 'same'],
    ['1x1, one channel', [3, 4, 4, 1], 1, 1, 1, 'valid'],
    ['2x2 valid stride 2, with zeros (ReLU-like inputs)', [2, 8, 8, 4], 2, 6, 2, 'valid'],
  ];
  for (const [name, xs, k, co, stride, pad] of cases) {
    it(name, () => {
      const x = tf.tidy(() => tf.relu(tf.randomNormal(xs, 0, 1, 'float32', 7)));
      const filterShape: [number, number, number, number] = [k, k, xs[3]!, co];
      const info = tf.backend_util.computeConv2DInfo(xs as [number, number, number, number], filterShape, stride, 1, pad);
      const dy = tf.randomNormal([xs[0]!, info.outHeight, info.outWidth, co], 0, 1, 'float32', 11);
      const got = tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, pad), dy)))(
        tf.zeros(filterShape),
      );
      const want = reference(
        x.dataSync() as Float32Array, xs, dy.dataSync() as Float32Array, dy.shape, k, k, stride, info.padInfo.top, info.padInfo.left,
      );
      const g = got.dataSync();
      let maxRel = 0;
      const scale = Math.max(...Array.from(want, Math.abs));
      for (let i = 0; i < want.length; i++) maxRel = Math.max(maxRel, Math.abs(g[i]! - want[i]!) / scale);
      assert.ok(maxRel < 1e-6, `max relative error ${maxRel}`);
      tf.dispose([x, dy, got]);
    });
  }
});
