/**
 * The native convolutions in each activation layout (native-layout.ts: NHWC, oneDNN's blocked layout
 * with reorders, and the automatic choice per primitive) against TF.js's JavaScript kernels, and the
 * direct kernel for the input gradient of a one-channel input (a VAE decoder's output layer). Same
 * tolerance as native-kernels.spec.ts: 1e-4 relative to max(|cpu|, rms(cpu)).
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { nativeAddon } from '../lib/backend/native.js';
import { nativeFallbacks } from '../lib/backend/native-kernels.js';
import { convGeometry } from '../lib/backend/native-kernels/conv.js';
import { setNativeConvLayout, type ConvLayout } from '../lib/backend/native-layout.js';
import { bf16Support } from '../lib/backend/native-precision.js';
import { requireNative } from './support/native.js';
import { relativeError } from './support/compare.js';
import { randomTensor } from './support/random.js';

const TOL = 1e-4;

/** f on fresh tensors of the given shapes (seeded) on `backend`, as float64 values. */
const on = async (backend: string, shapes: number[][], seed: number, f: (...xs: tf.Tensor[]) => tf.Tensor) => {
  await tf.setBackend(backend);
  const out = tf.tidy(() => f(...shapes.map((s, i) => randomTensor(s, seed + i))));
  const result = { shape: out.shape, data: Float64Array.from(out.dataSync()) };
  out.dispose();
  return result;
};

/** Asserts that native (in the current layout, with no JavaScript fallback) matches cpu within TOL. */
const agree = async (what: string, shapes: number[][], seed: number, f: (...xs: tf.Tensor[]) => tf.Tensor) => {
  const want = await on('cpu', shapes, seed, f);
  const before = nativeFallbacks();
  const got = await on('native', shapes, seed, f);
  assert.equal(nativeFallbacks(), before, `${what}: fell back to JavaScript`);
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  const error = relativeError(got.data, want.data);
  assert.ok(error <= TOL, `${what}: relative error ${error.toExponential(2)} exceeds ${TOL}`);
};

interface Case {
  readonly x: [number, number, number, number];
  readonly f: [number, number, number, number];
  readonly s: [number, number];
  readonly pad: 'valid' | 'same';
}

const cases: readonly Case[] = [
  // 5x5 over 64 channels, as in VAE2: the weight gradient goes blocked under `auto` on AVX2.
  { x: [2, 10, 10, 64], f: [5, 5, 64, 8], s: [2, 2], pad: 'same' },
  // Channels in multiples of 8 but 3x3 and 4x3 filters: NHWC under `auto`.
  { x: [2, 9, 9, 16], f: [3, 3, 16, 24], s: [1, 1], pad: 'valid' },
  { x: [2, 11, 10, 8], f: [4, 3, 8, 16], s: [2, 1], pad: 'same' },
  // Odd channel counts: the blocked layout pads them to a multiple of its block.
  { x: [2, 9, 9, 3], f: [3, 3, 3, 5], s: [2, 2], pad: 'same' },
  { x: [1, 7, 6, 12], f: [5, 5, 12, 6], s: [1, 1], pad: 'same' },
];

const label = (c: Case) => `x${c.x.join('x')} f${c.f.join('x')} s${c.s.join('x')} ${c.pad}`;

const info = (c: Case) => tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.pad);

/** The addon's geometry of a case, as the kernels send it. */
const geometry = (c: Case): number[] => convGeometry(info(c)) ?? assert.fail(`${label(c)}: no native geometry`);

const conv = (c: Case, x: tf.Tensor, f: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.s, c.pad);
const fusedConv = (c: Case, x: tf.Tensor, f: tf.Tensor, b: tf.Tensor) =>
  tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: c.s, pad: c.pad, bias: b, activation: 'relu' });
const backpropInput = (c: Case, dy: tf.Tensor, f: tf.Tensor) =>
  tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, {
    strides: c.s,
    pad: c.pad,
    dataFormat: 'NHWC',
    inputShape: c.x,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
const backpropFilter = (c: Case, x: tf.Tensor, dy: tf.Tensor) =>
  tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
    strides: c.s,
    pad: c.pad,
    dataFormat: 'NHWC',
    filterShape: c.f,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;

describe('native convolutions in each activation layout', function () {
  this.timeout(120_000);
  let previous: string;

  before(async function () {
    previous = await requireNative();
  });

  after(async function () {
    E.getOrElseW(() => assert.fail('native not loaded'))(setNativeConvLayout('auto'));
    await tf.setBackend(previous);
  });

  for (const layout of ['nhwc', 'blocked', 'auto'] as const satisfies readonly ConvLayout[]) {
    describe(`layout ${layout}`, function () {
      before(function () {
        assert.ok(E.isRight(setNativeConvLayout(layout)));
      });

      for (const [i, c] of cases.entries()) {
        const out = info(c).outShape as number[];
        it(`forward, fused forward, input and filter gradients agree with cpu: ${label(c)}`, async function () {
          await agree(`Conv2D ${label(c)}`, [c.x, c.f], 10 * i, (x, f) => conv(c, x!, f!));
          await agree(`FusedConv2D ${label(c)}`, [c.x, c.f, [c.f[3]]], 10 * i + 1, (x, f, b) => fusedConv(c, x!, f!, b!));
          await agree(`Conv2DBackpropInput ${label(c)}`, [out, c.f], 10 * i + 2, (dy, f) => backpropInput(c, dy!, f!));
          await agree(`Conv2DBackpropFilter ${label(c)}`, [c.x, out], 10 * i + 3, (x, dy) => backpropFilter(c, x!, dy!));
        });
      }

      it('runs every primitive in the layout asked for (auto: the rule in native/conv-prims.cc)', function () {
        const addon = nativeAddon();
        assert.ok(addon !== undefined);
        const avx2 = ['sse41', 'avx', 'avx2', 'avx2_vnni'].includes(bf16Support()?.probe.isa ?? '');
        for (const c of cases) {
          const g = geometry(c);
          const [, , , ch, , , oc, kh, kw] = g as [number, number, number, number, number, number, number, number, number];
          const rule = ch % 8 === 0 && oc % 8 === 0 && kh * kw >= 25;
          const expected = {
            fwd: layout === 'blocked',
            bwd_data: layout === 'blocked',
            bwd_weights: layout === 'blocked' || (layout === 'auto' && avx2 && rule),
          };
          for (const kind of ['fwd', 'bwd_data', 'bwd_weights'] as const) {
            const impl = addon.convImpl(kind, g);
            assert.match(impl, expected[kind] ? / blocked$/ : / nhwc$/, `${kind} ${label(c)}: ${impl}`);
          }
        }
      });
    });
  }
});

describe('the input gradient of a one-channel input (the direct kernel)', function () {
  this.timeout(60_000);
  let previous: string;

  before(async function () {
    previous = await requireNative();
  });

  after(async function () {
    await tf.setBackend(previous);
  });

  const oneChannel: readonly Case[] = [
    // VAE1's and VAE2's output layers (a transposed convolution to one channel, stride 1, same).
    { x: [2, 28, 28, 1], f: [3, 3, 1, 32], s: [1, 1], pad: 'same' },
    { x: [1, 28, 28, 1], f: [5, 5, 1, 64], s: [1, 1], pad: 'same' },
    // Strides, uneven strides, valid padding, output channels that are not a multiple of the 8 lanes.
    { x: [2, 12, 12, 1], f: [5, 5, 1, 13], s: [2, 2], pad: 'same' },
    { x: [1, 11, 10, 1], f: [4, 3, 1, 3], s: [2, 1], pad: 'same' },
    { x: [3, 9, 9, 1], f: [3, 3, 1, 7], s: [2, 2], pad: 'valid' },
    // Stride 3 with a 1x1 filter: most input positions receive no tap and must be exactly 0.
    { x: [1, 7, 7, 1], f: [1, 1, 1, 9], s: [3, 3], pad: 'valid' },
    { x: [1, 1, 1, 1], f: [1, 1, 1, 1], s: [1, 1], pad: 'valid' },
  ];
  for (const [i, c] of oneChannel.entries()) {
    it(`agrees with cpu: ${label(c)}`, async function () {
      const out = info(c).outShape as number[];
      await agree(`Conv2DBackpropInput ${label(c)}`, [out, c.f], 100 + i, (dy, f) => backpropInput(c, dy!, f!));
    });
  }

  it('gives exact zeros where no tap lands, and the same numbers on every call', async function () {
    const c = oneChannel[5]!;
    const out = info(c).outShape as number[];
    const first = await on('native', [out, c.f], 7, (dy, f) => backpropInput(c, dy!, f!));
    const again = await on('native', [out, c.f], 7, (dy, f) => backpropInput(c, dy!, f!));
    assert.deepEqual(again.data, first.data);
    // Rows and columns 0, 3, 6 receive taps; every other position none.
    first.data.forEach((v, k) => {
      const y = Math.floor(k / 7);
      const x = k % 7;
      if (y % 3 !== 0 || x % 3 !== 0) assert.equal(v, 0, `position ${y},${x}`);
      else assert.notEqual(v, 0, `position ${y},${x}`);
    });
  });

  it('is what conv2dTranspose to one channel runs (the decoder output of a VAE), gradients included', async function () {
    await agree('conv2dTranspose 7x7x8 -> 7x7x1', [[2, 7, 7, 8], [3, 3, 1, 8]], 200, (x, f) =>
      tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, [2, 7, 7, 1], 1, 'same'),
    );
    await agree('d/dx, d/df of sum(sigmoid(conv2dTranspose)^2)', [[2, 7, 7, 8], [3, 3, 1, 8]], 201, (x, f) => {
      const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.sigmoid(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [2, 7, 7, 1], 1, 'same')))),
      )([x!, f!]);
      return tf.concat([dx!.flatten(), df!.flatten()]);
    });
  });
});
