/**
 * Every kernel the `native` backend runs in C++ against TF.js's JavaScript kernel (`cpu`) on the same
 * random inputs: odd sizes, 1-element and broadcast shapes, valid/same padding, strides 1 and 2.
 * Relative error: max |native - cpu| / max(|cpu|, rms(cpu)) over the output. Entries smaller than the
 * output's RMS are measured against the RMS: a float32 sum of many terms with cancellation has an error
 * proportional to the size of its terms, not of its (possibly near-zero) result. Bounded by 1e-4 for
 * convolutions and products, 1e-6 element-wise. A table of the errors is printed at the end.
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { nativeThreads } from '../lib/backend/native.js';
import { kernelNames, requireNative } from './support/native.js';
import { bits, randomArray } from './support/random.js';
import { BINARY_CASES, UNARY_CASES } from './support/elementwise.js';
import { relativeError } from './support/compare.js';
import { nativeFallbacks } from '../lib/backend/native-kernels.js';
import { reductionBlock } from '../lib/backend/native-kernels/reduce.js';
import { dropoutMask, fusedAdam, fusedAdamax } from '../lib/backend/native-fused.js';
import { DENSE_KERNEL, fusedDense } from '../lib/backend/native-dense.js';
import { SOFTMAX_CE_KERNEL, fusedSoftmaxCrossEntropy } from '../lib/backend/native-loss.js';
import { dropoutScope, seededDropout } from '../lib/models/index.js';
import { mixSeed } from '../lib/models/hash.js';

const PRODUCT_TOL = 1e-4;
const ELEMENTWISE_TOL = 1e-6;

const sizeOf = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

interface Input {
  readonly shape: number[];
  readonly data: Float32Array | Int32Array;
  readonly dtype?: 'float32' | 'int32';
}
const input = (shape: number[], seed: number, lo = -1, hi = 1): Input => ({
  shape,
  data: randomArray(sizeOf(shape), seed, lo, hi),
});

/** Runs f on fresh tensors of `inputs` on `backend`; returns the outputs' values and shapes. */
const runOn = async (
  backend: string,
  inputs: readonly Input[],
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<{ shape: number[]; data: Float64Array; dtype: string }[]> => {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const xs = inputs.map((i) => tf.tensor(i.data.slice(), i.shape, i.dtype ?? 'float32'));
    const out = f(...xs);
    return Array.isArray(out) ? out : [out];
  });
  const results = outs.map((t) => ({ shape: t.shape, dtype: t.dtype as string, data: Float64Array.from(t.dataSync()) }));
  tf.dispose(outs);
  return results;
};

const report: { kernel: string; kase: string; error: number; tol: number }[] = [];

/**
 * Asserts native == cpu within tol for every output, and records the error. Unless `fallback` says the
 * case is one the C++ side leaves to JavaScript, it must also have run entirely in C++.
 */
const check = async (
  kernel: string,
  kase: string,
  tol: number,
  inputs: readonly Input[],
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  fallback = false,
): Promise<void> => {
  const expected = await runOn('cpu', inputs, f);
  const before = nativeFallbacks();
  const actual = await runOn('native', inputs, f);
  const fellBack = nativeFallbacks() > before;
  assert.equal(fellBack, fallback, `${kernel} ${kase}: ${fallback ? 'expected' : 'unexpected'} JavaScript fallback`);
  assert.equal(actual.length, expected.length);
  let error = 0;
  actual.forEach((a, k) => {
    const e = expected[k]!;
    assert.deepEqual(a.shape, e.shape, `${kernel} ${kase}: shape`);
    assert.equal(a.dtype, e.dtype, `${kernel} ${kase}: dtype`);
    error = Math.max(error, relativeError(a.data, e.data));
  });
  report.push({ kernel, kase, error, tol });
  assert.ok(error <= tol, `${kernel} ${kase}: relative error ${error.toExponential(2)} exceeds ${tol}`);
};

/** The kernels that ran natively, to make sure a test exercised C++ rather than a fallback. */
const kernelsRun = async (inputs: readonly Input[], f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]) => {
  await tf.setBackend('native');
  const xs = inputs.map((i) => tf.tensor(i.data.slice(), i.shape, i.dtype ?? 'float32'));
  const names = await kernelNames(() => f(...xs));
  tf.dispose(xs);
  return names;
};

describe('native backend kernels vs the JavaScript cpu kernels', function () {
  let previous: string;

  before(async function () {
    previous = await requireNative();
  });

  after(async function () {
    await tf.setBackend(previous);
    const lines = report.map(
      (r) => `  ${r.kernel.padEnd(22)} ${r.kase.padEnd(44)} ${r.error.toExponential(2).padStart(9)}  (<= ${r.tol})`,
    );
    console.log(`\n  max relative error, native vs cpu (${report.length} cases):\n${lines.join('\n')}\n`);
  });

  describe('Conv2D and FusedConv2D', function () {
    const cases: { x: number[]; f: number[]; s: number | [number, number]; pad: 'valid' | 'same'; d?: number }[] = [
      { x: [2, 9, 9, 3], f: [3, 3, 3, 5], s: 1, pad: 'valid' },
      { x: [2, 9, 9, 3], f: [3, 3, 3, 5], s: 2, pad: 'same' },
      { x: [2, 10, 10, 3], f: [3, 3, 3, 4], s: 2, pad: 'same' },
      { x: [1, 7, 6, 1], f: [5, 5, 1, 4], s: 1, pad: 'same' },
      { x: [3, 8, 8, 2], f: [1, 1, 2, 3], s: 2, pad: 'valid' },
      { x: [2, 11, 10, 3], f: [4, 3, 3, 2], s: [2, 1], pad: 'same' },
      { x: [1, 9, 9, 2], f: [3, 3, 2, 2], s: 1, pad: 'valid', d: 2 },
      { x: [1, 1, 1, 1], f: [1, 1, 1, 1], s: 1, pad: 'valid' },
      { x: [4, 28, 28, 1], f: [5, 5, 1, 40], s: 1, pad: 'valid' },
      { x: [2, 14, 14, 32], f: [3, 3, 32, 64], s: 2, pad: 'same' },
    ];
    for (const [i, c] of cases.entries()) {
      const kase = `x${c.x.join('x')} f${c.f.join('x')} s${String(c.s)} ${c.pad}${c.d ? ` d${c.d}` : ''}`;
      const ins = [input(c.x, 10 + i), input(c.f, 20 + i), input([c.f[3]!], 30 + i)];
      it(`Conv2D ${kase}`, async function () {
        await check('Conv2D', kase, PRODUCT_TOL, ins, (x, f) =>
          tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.s, c.pad, 'NHWC', c.d ?? 1),
        );
      });
      for (const act of ['relu', 'linear', 'sigmoid', 'elu', 'relu6', 'leakyrelu'] as const) {
        if (act !== 'relu' && i > 2) continue;
        it(`FusedConv2D +bias ${act} ${kase}`, async function () {
          await check('FusedConv2D', `${act} ${kase}`, PRODUCT_TOL, ins, (x, f, b) =>
            tf.fused.conv2d({
              x: x as tf.Tensor4D,
              filter: f as tf.Tensor4D,
              strides: c.s,
              pad: c.pad,
              dilations: c.d ?? 1,
              bias: b,
              activation: act,
              leakyreluAlpha: 0.3,
            }),
          );
        });
      }
    }

    it('runs Conv2D and FusedConv2D natively', async function () {
      const ins = [input([1, 5, 5, 2], 1), input([3, 3, 2, 2], 2), input([2], 3)];
      const names = await kernelsRun(ins, (x, f, b) => [
        tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'),
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'same', bias: b, activation: 'relu' }),
      ]);
      assert.deepEqual(names, ['Conv2D', 'FusedConv2D']);
    });
  });

  describe('Conv2DBackpropInput and Conv2DBackpropFilter', function () {
    const cases: { x: number[]; f: number[]; s: number | [number, number]; pad: 'valid' | 'same' }[] = [
      { x: [2, 9, 9, 3], f: [3, 3, 3, 5], s: 1, pad: 'valid' },
      { x: [2, 9, 9, 3], f: [3, 3, 3, 5], s: 2, pad: 'same' },
      { x: [2, 14, 14, 4], f: [3, 3, 4, 6], s: 2, pad: 'same' },
      { x: [2, 14, 14, 3], f: [5, 5, 3, 2], s: 2, pad: 'same' },
      { x: [1, 7, 6, 1], f: [5, 5, 1, 4], s: 1, pad: 'same' },
      { x: [3, 8, 8, 2], f: [1, 1, 2, 3], s: 2, pad: 'valid' },
      { x: [2, 11, 10, 3], f: [4, 3, 3, 2], s: [2, 1], pad: 'same' },
      { x: [1, 1, 1, 1], f: [1, 1, 1, 1], s: 1, pad: 'valid' },
      { x: [3, 28, 28, 1], f: [5, 5, 1, 40], s: 1, pad: 'valid' },
    ];
    for (const [i, c] of cases.entries()) {
      const kase = `x${c.x.join('x')} f${c.f.join('x')} s${String(c.s)} ${c.pad}`;
      const strides: [number, number] = typeof c.s === 'number' ? [c.s, c.s] : c.s;
      const outShape = tf.backend_util.computeConv2DInfo(
        c.x as [number, number, number, number],
        c.f as [number, number, number, number],
        strides,
        1,
        c.pad,
      ).outShape;
      it(`Conv2DBackpropInput ${kase}`, async function () {
        await check('Conv2DBackpropInput', kase, PRODUCT_TOL, [input(outShape, 40 + i), input(c.f, 50 + i)], (dy, f) =>
          tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, {
            strides,
            pad: c.pad,
            dataFormat: 'NHWC',
            inputShape: c.x,
          } as unknown as tf.NamedAttrMap) as tf.Tensor,
        );
      });
      it(`Conv2DBackpropFilter ${kase}`, async function () {
        await check('Conv2DBackpropFilter', kase, PRODUCT_TOL, [input(c.x, 60 + i), input(outShape, 70 + i)], (x, dy) =>
          tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
            strides,
            pad: c.pad,
            dataFormat: 'NHWC',
            filterShape: c.f,
          } as unknown as tf.NamedAttrMap) as tf.Tensor,
        );
      });
    }

    it('conv2dTranspose (the VAE decoder forward) and end-to-end conv gradients agree', async function () {
      await check('Conv2DBackpropInput', 'conv2dTranspose 7x7x8 -> 14x14x4', PRODUCT_TOL,
        [input([2, 7, 7, 8], 80), input([3, 3, 4, 8], 81)],
        (x, f) => tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, [2, 14, 14, 4], 2, 'same'),
      );
      await check('conv grads', 'd/dx, d/dw, d/db of relu(conv+b)', PRODUCT_TOL,
        [input([2, 8, 8, 3], 82), input([3, 3, 3, 4], 83), input([4], 84)],
        (x, f, b) =>
          tf.grads((x: tf.Tensor, f: tf.Tensor, b: tf.Tensor) =>
            tf.sum(tf.square(tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 2, pad: 'same', bias: b, activation: 'relu' }))),
          )([x!, f!, b!]),
      );
    });
  });

  describe('BatchMatMul and _FusedMatMul', function () {
    const cases: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
      { a: [7, 5], b: [5, 3], ta: false, tb: false },
      { a: [5, 7], b: [5, 3], ta: true, tb: false },
      { a: [7, 5], b: [3, 5], ta: false, tb: true },
      { a: [5, 7], b: [3, 5], ta: true, tb: true },
      { a: [1, 1], b: [1, 1], ta: false, tb: false },
      { a: [1, 9], b: [9, 1], ta: false, tb: false },
      { a: [2, 3, 4], b: [2, 4, 5], ta: false, tb: false },
      { a: [2, 4, 3], b: [2, 5, 4], ta: true, tb: true },
      { a: [1, 3, 4], b: [4, 4, 5], ta: false, tb: false },
      { a: [3, 3, 4], b: [4, 5], ta: false, tb: false },
      { a: [64, 300], b: [300, 33], ta: false, tb: false },
      { a: [33, 64], b: [33, 300], ta: true, tb: false },
    ];
    for (const [i, c] of cases.entries()) {
      const kase = `${c.a.join('x')}${c.ta ? 'T' : ''} * ${c.b.join('x')}${c.tb ? 'T' : ''}`;
      const n = c.tb ? c.b[c.b.length - 2]! : c.b[c.b.length - 1]!;
      const ins = [input(c.a, 90 + i), input(c.b, 110 + i), input([n], 130 + i)];
      it(`BatchMatMul ${kase}`, async function () {
        await check('BatchMatMul', kase, PRODUCT_TOL, ins, (a, b) => tf.matMul(a!, b!, c.ta, c.tb));
      });
      if (c.a.length === 2 && c.b.length === 2)
        for (const act of ['relu', 'linear', 'sigmoid', 'elu', 'relu6', 'leakyrelu'] as const) {
          it(`_FusedMatMul +bias ${act} ${kase}`, async function () {
            await check('_FusedMatMul', `${act} ${kase}`, PRODUCT_TOL, ins, (a, b, bias) =>
              tf.fused.matMul({ a: a!, b: b!, transposeA: c.ta, transposeB: c.tb, bias, activation: act, leakyreluAlpha: 0.3 }),
            );
          });
        }
    }
    it('_FusedMatMul with a scalar bias, and Dense-layer gradients', async function () {
      await check('_FusedMatMul', 'scalar bias', PRODUCT_TOL, [input([6, 4], 140), input([4, 3], 141), input([1], 142)],
        (a, b, bias) => tf.fused.matMul({ a: a!, b: b!, bias, activation: 'relu' }));
      await check('matmul grads', 'd/da, d/db, d/dbias of relu(a b + bias)', PRODUCT_TOL,
        [input([6, 5], 143), input([5, 4], 144), input([4], 145)],
        (a, b, bias) =>
          tf.grads((a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) =>
            tf.sum(tf.square(tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation: 'relu' }))),
          )([a!, b!, bias!]),
      );
    });
  });

  describe('MaxPool and MaxPoolGrad', function () {
    const cases: { x: number[]; k: number; s: number; pad: 'valid' | 'same' }[] = [
      { x: [2, 8, 8, 3], k: 2, s: 2, pad: 'valid' },
      { x: [2, 9, 7, 3], k: 2, s: 2, pad: 'valid' },
      { x: [1, 7, 9, 2], k: 3, s: 2, pad: 'same' },
      { x: [2, 6, 6, 5], k: 3, s: 1, pad: 'same' },
      { x: [1, 1, 1, 1], k: 1, s: 1, pad: 'valid' },
      { x: [4, 24, 24, 40], k: 2, s: 2, pad: 'valid' },
    ];
    for (const [i, c] of cases.entries()) {
      const kase = `x${c.x.join('x')} k${c.k} s${c.s} ${c.pad}`;
      it(`MaxPool ${kase}`, async function () {
        await check('MaxPool', kase, ELEMENTWISE_TOL, [input(c.x, 150 + i)], (x) =>
          tf.maxPool(x as tf.Tensor4D, c.k, c.s, c.pad),
        );
      });
      it(`MaxPoolGrad ${kase}`, async function () {
        await check('MaxPoolGrad', kase, ELEMENTWISE_TOL, [input(c.x, 160 + i), input(c.x, 170 + i)], (x, w) =>
          tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, c.k, c.s, c.pad), tf.slice(w!, 0, tf.maxPool(x as tf.Tensor4D, c.k, c.s, c.pad).shape))))(x!),
        );
      });
      it(`MaxPoolGrad with ties (ReLU zeros) ${kase}`, async function () {
        // Half the inputs are exactly zero after the ReLU: the gradient must go to the first zero of a window.
        await check('MaxPoolGrad', `ties ${kase}`, ELEMENTWISE_TOL, [input(c.x, 180 + i)], (x) =>
          tf.grad((x: tf.Tensor) => tf.sum(tf.maxPool(tf.relu(x) as tf.Tensor4D, c.k, c.s, c.pad)))(x!),
        );
      });
    }
  });

  describe('element-wise unary kernels', function () {
    for (const [name, f, lo, hi] of UNARY_CASES) {
      for (const shape of [[1], [3, 7], [40000]]) {
        it(`${name} [${shape.join(',')}]`, async function () {
          await check(name, `[${shape.join(',')}] in [${lo}, ${hi}]`, ELEMENTWISE_TOL, [input(shape, shape.length + name.length, lo, hi)], (x) => f(x!));
        });
      }
    }
    it('Relu, Step and Abs keep NaN and the values at 0', async function () {
      const special: Input = { shape: [6], data: Float32Array.from([NaN, 0, -0, Infinity, -Infinity, 1e-40]) };
      for (const [name, f] of [['Relu', tf.relu], ['Step', tf.step], ['Abs', tf.abs], ['Sigmoid', tf.sigmoid]] as const)
        await check(name, 'NaN, 0, -0, +-Inf, denormal', ELEMENTWISE_TOL, [special], (x) => f(x!));
    });
  });

  describe('element-wise binary kernels with broadcasting', function () {
    const shapes: [number[], number[]][] = [
      [[3, 4, 5], [3, 4, 5]],
      [[3, 1, 5], [4, 1]],
      [[], [2, 3]],
      [[2, 3], []],
      [[1], [1]],
      [[2, 1, 3, 1], [1, 4, 1, 5]],
      [[5], [3, 5]],
      [[3, 1], [3, 5]],
      [[200, 24, 24, 40], [40]],
      [[70000], [70000]],
    ];
    for (const [name, f, lo, hi] of BINARY_CASES)
      for (const [i, [sa, sb]] of shapes.entries()) {
        const kase = `[${sa.join(',')}] with [${sb.join(',')}]`;
        it(`${name} ${kase}`, async function () {
          await check(name, kase, ELEMENTWISE_TOL, [input(sa, 200 + i, lo, hi), input(sb, 220 + i, lo, hi)], f);
        });
      }
    it('Add of int32 tensors falls back to JavaScript and stays int32', async function () {
      const a: Input = { shape: [3], data: Int32Array.from([1, 2, 3]), dtype: 'int32' };
      await check('Add', 'int32 fallback', 0, [a, a], tf.add, true);
    });
    it('Tile', async function () {
      for (const [shape, reps] of [[[3, 4], [2, 3]], [[1], [5]], [[2, 1, 3], [1, 4, 2]], [[200, 512], [1, 1]], [[4, 1], [1, 512]]] as [number[], number[]][])
        await check('Tile', `[${shape.join(',')}] x [${reps.join(',')}]`, 0, [input(shape, 250)], (x) => tf.tile(x!, reps));
    });
    it('AddN of three tensors', async function () {
      await check('AddN', '3 x [7, 9]', ELEMENTWISE_TOL, [input([7, 9], 240), input([7, 9], 241), input([7, 9], 242)],
        (a, b, c) => tf.addN([a!, b!, c!]));
    });
  });

  describe('reductions, softmax and batch normalisation', function () {
    const axesCases: (number | number[] | null)[] = [0, 1, 2, [0, 1], [1, 2], [0, 2], null, -1];
    for (const [name, f] of [
      ['Sum', tf.sum],
      ['Mean', tf.mean],
      ['Max', tf.max],
      ['Min', tf.min],
    ] as const) {
      for (const axes of axesCases)
        for (const keepDims of [false, true]) {
          const kase = `[3,4,5] axes ${JSON.stringify(axes)} keepDims ${keepDims}`;
          it(`${name} ${kase}`, async function () {
            // Axes 0 and 2 of three are not one block: the JavaScript kernel transposes.
            const split = JSON.stringify(axes) === '[0,2]';
            await check(name, kase, ELEMENTWISE_TOL, [input([3, 4, 5], 300)], (x) => f(x!, axes ?? undefined, keepDims), split);
          });
        }
      it(`${name} over [1] and over the batch of [200, 24, 24, 40]`, async function () {
        await check(name, '[1] all', ELEMENTWISE_TOL, [input([1], 301)], (x) => f(x!));
        await check(name, '[200,24,24,40] axes [0,1,2]', ELEMENTWISE_TOL, [input([200, 24, 24, 40], 302)], (x) => f(x!, [0, 1, 2]));
      });
    }
    it('ArgMax along the last and the first axis', async function () {
      await check('ArgMax', '[7, 10] axis 1', 0, [input([7, 10], 310)], (x) => tf.argMax(x!, 1));
      await check('ArgMax', '[7, 10] axis 0', 0, [input([7, 10], 311)], (x) => tf.argMax(x!, 0), true);
    });
    it('Softmax', async function () {
      for (const shape of [[4, 7], [1, 1], [2, 3, 5]])
        await check('Softmax', `[${shape.join(',')}]`, ELEMENTWISE_TOL, [input(shape, 320, -20, 20)], (x) => tf.softmax(x!));
    });
    it('FusedBatchNorm with and without offset/scale, 2-D and 4-D', async function () {
      await check('FusedBatchNorm', '[6,5] all params', ELEMENTWISE_TOL,
        [input([6, 5], 330), input([5], 331), input([5], 332, 0.1, 2), input([5], 333), input([5], 334)],
        (x, m, v, o, s) => tf.batchNorm(x!, m!, v!, o!, s!, 1e-3));
      await check('FusedBatchNorm', '[2,3,3,4] no offset/scale', ELEMENTWISE_TOL,
        [input([2, 3, 3, 4], 335), input([4], 336), input([4], 337, 0.1, 2)],
        (x, m, v) => tf.batchNorm(x!, m!, v!, undefined, undefined, 1e-3));
    });
    it('views a block of reduced axes as [outer, reduce, inner], or declines', function () {
      assert.deepEqual(reductionBlock([3, 4, 5], [1]), { outer: 3, reduce: 4, inner: 5 });
      assert.deepEqual(reductionBlock([200, 24, 24, 40], [0, 1, 2]), { outer: 1, reduce: 115200, inner: 40 });
      assert.deepEqual(reductionBlock([3, 1, 5], [0, 1]), { outer: 1, reduce: 3, inner: 5 });
      assert.equal(reductionBlock([3, 4, 5], [0, 2]), undefined);
    });
  });

  describe('fused Dense (OptbenchDense)', function () {
    for (const act of ['linear', 'relu', 'sigmoid', 'tanh'] as const) {
      it(`${act}: forward and every gradient bit-identical to matMul + add + ${act} on native`, async function () {
        await tf.setBackend('native');
        const [m, k, n] = [37, 129, 65];
        const x = tf.tensor2d(randomArray(m * k, 700), [m, k]);
        const w = tf.tensor2d(randomArray(k * n, 701), [k, n]);
        const b = tf.tensor1d(randomArray(n, 702));
        const up = tf.tensor2d(randomArray(m * n, 703), [m, n]);
        const composed = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => {
          const y = tf.add(tf.matMul(xx, ww), bb);
          return act === 'linear' ? y : act === 'relu' ? tf.relu(y) : act === 'sigmoid' ? tf.sigmoid(y) : tf.tanh(y);
        };
        const fusedRun = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => {
          const y = fusedDense(xx, ww, bb, act);
          assert.ok(y !== undefined, 'fused on native');
          return y;
        };
        // A loss that weights every output differently, so each gradient element is distinct.
        const grads = (f: typeof composed) => tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(f(xx, ww, bb), up)))([x, w, b]);
        const want = [composed(x, w, b), ...grads(composed)];
        const got = [fusedRun(x, w, b), ...grads(fusedRun)];
        ['y', 'dx', 'dW', 'db'].forEach((what, i) => assert.deepEqual(bits(got[i]!), bits(want[i]!), `${act}: ${what} differs`));
        const ran = await kernelsRun([], () => fusedRun(x, w, b));
        assert.deepEqual(ran, [DENSE_KERNEL]);
        // Only the weights' gradients asked for: one product (dW), none for x.
        const weightsOnly = await tf.profile(() => tf.grads((ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(fusedRun(x, ww, bb), up)))([w, b]));
        assert.equal(weightsOnly.kernels.filter((kk) => kk.name === 'BatchMatMul').length, 1);
        tf.dispose([x, w, b, up, ...want, ...got, ...(weightsOnly.result as tf.Tensor[])]);
      });
    }
  });

  describe('fused softmax cross-entropy (OptbenchSoftmaxCrossEntropy)', function () {
    for (const [rows, cols, lo, hi] of [[200, 10, -5, 5], [7, 3, -60, 60], [1, 2, -1, 1], [33, 17, -1e-3, 1e-3]] as const) {
      it(`[${rows}, ${cols}] logits in [${lo}, ${hi}]: loss and gradient bit-identical to tf.losses.softmaxCrossEntropy on native`, async function () {
        await tf.setBackend('native');
        const logits = tf.tensor2d(randomArray(rows * cols, 800 + rows, lo, hi), [rows, cols]);
        const r = randomArray(rows, 801);
        // Every class, and a label outside [0, cols) (its one-hot row is all zeros in TF.js too).
        const labels = tf.tensor1d(Array.from(r, (v, i) => (i === 3 ? cols : Math.floor(Math.abs(v) * cols))), 'int32');
        const composed = (l: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, cols), l, undefined, 0, tf.Reduction.MEAN) as tf.Scalar;
        const fused = (l: tf.Tensor) => {
          const y = fusedSoftmaxCrossEntropy(l, labels, cols);
          assert.ok(y !== undefined, 'fused on native');
          return y;
        };
        const want = tf.valueAndGrad(composed)(logits);
        const got = tf.valueAndGrad(fused)(logits);
        assert.deepEqual(bits(got.value), bits(want.value), `loss ${got.value.dataSync()[0]} vs ${want.value.dataSync()[0]}`);
        assert.deepEqual(bits(got.grad), bits(want.grad), 'gradient');
        assert.deepEqual(await kernelsRun([], () => fused(logits)), [SOFTMAX_CE_KERNEL]);
        tf.dispose([logits, labels, want.value, want.grad, got.value, got.grad]);
      });
    }
  });

  describe('fused Adamax update', function () {
    // 300007 elements take the AVX2 streaming-store loop (from 2^18), with an unaligned head and tail.
    for (const [variant, n] of [['tfkeras', 70001], ['torch', 70001], ['tfkeras', 300007], ['torch', 300007]] as const) {
      it(`is bit-identical to the composed element-wise ops (${variant} epsilon, ${n} elements)`, async function () {
        const g = randomArray(n, 500, -1e-2, 1e-2);
        g[0] = 0;
        g[1] = NaN;
        g[n >> 1] = 0;
        g[(n >> 1) + 1] = NaN;
        const ins = [input([n], 501), input([n], 502, -1e-2, 1e-2), input([n], 503, 0, 1e-2), { shape: [n], data: g }];
        const scalars = { beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.999, eps: 1e-7, step: 0.001 / (1 - 0.9 ** 3) };
        const composed = (theta: tf.Tensor, m0: tf.Tensor, u0: tf.Tensor, gr: tf.Tensor, c: Record<string, tf.Scalar>) => {
          const m = tf.add(tf.mul(c['beta1']!, m0), tf.mul(c['oneMinusBeta1']!, gr));
          const decayed = tf.mul(c['beta2']!, u0);
          const u = variant === 'torch' ? tf.maximum(decayed, tf.add(tf.abs(gr), c['eps']!)) : tf.maximum(decayed, tf.abs(gr));
          const denom = variant === 'torch' ? u : tf.add(u, c['eps']!);
          return [tf.sub(theta, tf.div(tf.mul(c['step']!, m), denom)), m, u];
        };
        const scalarsOf = () =>
          Object.fromEntries(Object.entries(scalars).map(([k, v]) => [k, tf.scalar(v)])) as Record<keyof typeof scalars, tf.Scalar>;
        const expected = await runOn('cpu', ins, (theta, m0, u0, gr) => {
          assert.equal(fusedAdamax(gr!, theta!, m0!, u0!, scalarsOf(), variant), undefined, 'not fused off native');
          return composed(theta!, m0!, u0!, gr!, scalarsOf());
        });
        const actual = await runOn('native', ins, (theta, m0, u0, gr) => {
          const r = fusedAdamax(gr!, theta!, m0!, u0!, scalarsOf(), variant);
          assert.ok(r !== undefined, 'fused on native');
          return [r.theta, r.m, r.u];
        });
        actual.forEach((a, k) => {
          const e = expected[k]!;
          for (let i = 0; i < n; i++)
            if (!Object.is(a.data[i], e.data[i]) && !(Number.isNaN(a.data[i]) && Number.isNaN(e.data[i])))
              assert.fail(`output ${k} element ${i}: fused ${a.data[i]} vs composed ${e.data[i]}`);
        });
        report.push({ kernel: 'OptbenchAdamax', kase: `${variant}, [${n}] incl. 0 and NaN gradients`, error: 0, tol: 0 });
      });
    }
  });

  describe('fused Adam update', function () {
    for (const variant of ['epsilon-hat', 'bias-corrected'] as const) {
      it(`is bit-identical to the composed element-wise ops (${variant})`, async function () {
        const n = 70001;
        const g = randomArray(n, 510, -1e-2, 1e-2);
        g[0] = 0;
        g[1] = NaN;
        const ins = [input([n], 511), input([n], 512, -1e-2, 1e-2), input([n], 513, 0, 1e-4), { shape: [n], data: g }];
        const t = 3;
        const bc1 = 1 - 0.9 ** t;
        const bc2 = 1 - 0.999 ** t;
        const scalars = {
          beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.999, oneMinusBeta2: 0.001, eps: 1e-7,
          alpha: variant === 'epsilon-hat' ? (0.001 * Math.sqrt(bc2)) / bc1 : 0.001 / bc1,
          invBc2: 1 / bc2,
        };
        const scalarsOf = () =>
          Object.fromEntries(Object.entries(scalars).map(([k, v]) => [k, tf.scalar(v)])) as Record<keyof typeof scalars, tf.Scalar>;
        const expected = await runOn('cpu', ins, (theta, m0, v0, gr) => {
          const c = scalarsOf();
          assert.equal(fusedAdam(gr!, theta!, m0!, v0!, c, variant), undefined, 'not fused off native');
          const m = tf.add(tf.mul(c.beta1, m0!), tf.mul(c.oneMinusBeta1, gr!));
          const v = tf.add(tf.mul(c.beta2, v0!), tf.mul(c.oneMinusBeta2, tf.square(gr!)));
          const root = variant === 'epsilon-hat' ? tf.sqrt(v) : tf.sqrt(tf.mul(v, c.invBc2));
          return [tf.sub(theta!, tf.div(tf.mul(c.alpha, m), tf.add(root, c.eps))), m, v];
        });
        const actual = await runOn('native', ins, (theta, m0, v0, gr) => {
          const r = fusedAdam(gr!, theta!, m0!, v0!, scalarsOf(), variant);
          assert.ok(r !== undefined, 'fused on native');
          return [r.theta, r.m, r.v];
        });
        actual.forEach((a, k) => {
          const e = expected[k]!;
          for (let i = 0; i < n; i++)
            if (!Object.is(a.data[i], e.data[i]) && !(Number.isNaN(a.data[i]) && Number.isNaN(e.data[i])))
              assert.fail(`output ${k} element ${i}: fused ${a.data[i]} vs composed ${e.data[i]}`);
        });
        report.push({ kernel: 'OptbenchAdam', kase: `${variant}, [${n}] incl. 0 and NaN gradients`, error: 0, tol: 0 });
      });
    }
  });

  describe('activation gradients', function () {
    const specials = [0, -0, 1e-30, -1e-30, 20, -20, 1e30, -1e30, NaN, Infinity, -Infinity];
    const input = (n: number, seed: number) => {
      const v = randomArray(n, seed).map((x) => 4 * x);
      specials.forEach((s, i) => (v[(i * 7) % n] = s));
      return v;
    };
    /** First and second derivatives of act at x, weighted by dy, on the given backend. */
    const grads = async (backend: string, act: (x: tf.Tensor) => tf.Tensor, x: Float32Array, dy: Float32Array) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const xt = tf.tensor1d(x);
        const dyt = tf.tensor1d(dy);
        const first = tf.grad(act)(xt, dyt).dataSync() as Float32Array;
        // TF.js differentiates a gradient of relu, but not of tanh or sigmoid (their saved outputs are
        // not on the outer tape), on every backend.
        const second = act === tf.relu ? (tf.grad((t: tf.Tensor) => tf.grad(act)(t, dyt))(xt).dataSync() as Float32Array) : undefined;
        return [first.slice(), second?.slice()] as const;
      });
    };
    const bitEqual = (a: Float32Array, b: Float32Array, what: string) => {
      for (let i = 0; i < a.length; i++)
        if (!Object.is(a[i], b[i])) assert.fail(`${what}, element ${i}: native ${a[i]} vs cpu ${b[i]}`);
    };
    for (const [name, act] of [
      ['tanh', tf.tanh],
      ['sigmoid', tf.sigmoid],
      ['relu', tf.relu],
    ] as const) {
      it(`${name}: one fused kernel on native, bit-identical to TF.js's own gradient on cpu`, async function () {
        for (const n of [1, 37, 100003]) {
          const x = input(n, 11 + n);
          const dy = randomArray(n, 12 + n);
          const [cpuFirst, cpuSecond] = await grads('cpu', act, x, dy);
          const [natFirst, natSecond] = await grads('native', act, x, dy);
          bitEqual(natFirst, cpuFirst, `${name} gradient, n = ${n}`);
          if (natSecond !== undefined && cpuSecond !== undefined) bitEqual(natSecond, cpuSecond, `${name} second derivative, n = ${n}`);
          report.push({ kernel: 'OptbenchActivationGrad', kase: `${name} [${n}] incl. NaN, inf, -0`, error: 0, tol: 0 });
        }
        await tf.setBackend('native');
        const info = await tf.profile(() =>
          tf.tidy(() => void tf.grad(act)(tf.tensor1d(input(5000, 3)), tf.tensor1d(randomArray(5000, 4)))),
        );
        const names = info.kernels.map((k) => k.name);
        assert.ok(names.includes('OptbenchActivationGrad'), `${name}: kernels ${names.join(', ')}`);
        assert.ok(!names.some((k) => ['Square', 'Step', 'Sub', 'Multiply'].includes(k)), `${name}: kernels ${names.join(', ')}`);
      });
    }
  });

  describe('dropout masks', function () {
    it('keep 1 - rate of the units, scaled by 1 / (1 - rate), reproducibly from the seed', async function () {
      await tf.setBackend('native');
      const n = 200000;
      for (const rate of [0.25, 0.5, 0]) {
        const mask = dropoutMask([n], rate, 42)!;
        const again = dropoutMask([n], rate, 42)!;
        const other = dropoutMask([n], rate, 43)!;
        const m = mask.dataSync() as Float32Array;
        const keep = 1 - rate;
        const scale = Math.fround(1 / Math.fround(keep));
        assert.ok(m.every((v) => v === 0 || v === scale), `rate ${rate}: values other than 0 and ${scale}`);
        assert.deepEqual(again.dataSync(), m, 'same seed, same mask');
        if (rate > 0) assert.notDeepEqual(other.dataSync(), m, 'another seed, another mask');
        // Binomial: standard deviation of the kept fraction of a quarter is about 0.002; allow 5 of them.
        for (let q = 0; q < 4; q++) {
          const part = m.subarray((q * n) / 4, ((q + 1) * n) / 4);
          let kept = 0;
          for (const v of part) if (v > 0) kept++;
          kept /= part.length;
          assert.ok(Math.abs(kept - keep) < 0.01, `rate ${rate}, quarter ${q}: kept ${kept}`);
        }
        // Neighbours independent: P(both kept) ~ keep^2.
        let both = 0;
        for (let i = 1; i < n; i++) if (m[i]! > 0 && m[i - 1]! > 0) both++;
        assert.ok(Math.abs(both / (n - 1) - keep * keep) < 0.01, `rate ${rate}: neighbours correlated`);
        tf.dispose([mask, again, other]);
      }
      await tf.setBackend('cpu');
      assert.equal(dropoutMask([10], 0.5, 1), undefined, 'only on native');
    });

    it("are what SeededDropout applies on native: x times the mask of the call's seed", async function () {
      await tf.setBackend('native');
      const layer = seededDropout({ rate: 0.25, index: 3 });
      tf.tidy(() => {
        const x = tf.randomNormal([64, 7, 7, 8], 0, 1, 'float32', 5);
        const scope = dropoutScope(11);
        const [first, second] = [0, 1].map(() => layer.apply(x, { training: true, dropout: scope }) as tf.Tensor);
        // The layer derives call k's seed from (step seed, layer index, k), as on every backend.
        const expected = [0, 1].map((k) => tf.mul(x, dropoutMask(x.shape, 0.25, mixSeed(11, 3, k))!));
        assert.deepEqual(first!.dataSync(), expected[0]!.dataSync(), 'first call');
        assert.deepEqual(second!.dataSync(), expected[1]!.dataSync(), 'second call');
        const again = layer.apply(x, { training: true, dropout: dropoutScope(11) }) as tf.Tensor;
        assert.deepEqual(again.dataSync(), first!.dataSync(), 'the same step seed gives the same mask');
        const g = tf.grad((xx: tf.Tensor) => (layer.apply(xx, { training: true, dropout: dropoutScope(11) }) as tf.Tensor).sum())(x);
        assert.deepEqual(g.dataSync(), dropoutMask(x.shape, 0.25, mixSeed(11, 3, 0))!.dataSync(), 'gradient: the mask');
      });
      await tf.setBackend('cpu');
    });
  });

  describe('storage', function () {
    it('recycled output buffers never overwrite data that was read out or sliced', async function () {
      await tf.setBackend('native');
      const x = tf.tensor1d(randomArray(10000, 400));
      const y = tf.relu(x);
      const read = y.dataSync();
      const before = Float32Array.from(read);
      const view = tf.slice(y, 0, 5000); // the JavaScript Slice returns a view of y's buffer
      const viewBefore = Float32Array.from(view.dataSync());
      y.dispose();
      const z = tf.tidy(() => tf.add(tf.neg(x), tf.neg(x))); // same length: would reuse a released buffer
      assert.deepEqual(Float32Array.from(read), before);
      assert.deepEqual(Float32Array.from(view.dataSync()), viewBefore);
      tf.dispose([x, view, z]);
    });

    it('reuses disposed outputs of native kernels', async function () {
      await tf.setBackend('native');
      const x = tf.tensor1d(randomArray(10000, 401));
      const a = tf.exp(x);
      a.dispose();
      const b = tf.exp(x); // takes a's buffer from the pool
      const got = Float64Array.from(b.dataSync());
      const want = Float64Array.from(randomArray(10000, 401), (v) => Math.fround(Math.exp(v)));
      assert.equal(relativeError(got, want), 0);
      tf.dispose([x, b]);
    });
  });

  describe('threads', function () {
    it('reads OPTBENCH_THREADS, defaulting to one per core, and refuses nonsense', function () {
      assert.deepEqual(nativeThreads({ OPTBENCH_THREADS: '3' }), E.right(3));
      const dflt = nativeThreads({});
      assert.ok(E.isRight(dflt) && dflt.right >= 1);
      const bad = nativeThreads({ OPTBENCH_THREADS: 'two' });
      assert.ok(E.isLeft(bad) && bad.left._tag === 'BackendUnavailable' && bad.left.message.includes('OPTBENCH_THREADS'));
    });
  });
});
