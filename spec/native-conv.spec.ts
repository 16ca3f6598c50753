/**
 * A ReLU convolution's training forward as one kernel on native (lib/backend/native-conv.ts) and the
 * models' KerasConv2D layer (lib/models/conv.ts): bit-identical to what TF.js's Conv2D layer computes, on
 * native in fp32 and bf16 and on cpu, and only the gradients asked for are computed. Native's
 * FusedConv2D, which that kernel runs, is conv2d + add + activation bit for bit on every CPU (the bias
 * and activation are applied after oneDNN's plain convolution, native/conv.cc): checked with input
 * channels in one and in several of oneDNN's channel blocks, in both layouts, and with NaN inputs.
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { CONV_KERNEL, fusedConvRelu } from '../lib/backend/native-conv.js';
import { setNativeConvLayout } from '../lib/backend/native-layout.js';
import { setNativePrecisionMode } from '../lib/backend/native-precision.js';
import { KerasConv2D } from '../lib/models/conv.js';
import type { Activation } from '../lib/models/layers.js';
import { kernelNames, requireNative } from './support/native.js';
import { bits, randomArray } from './support/random.js';

const GEOMETRIES = [
  { strides: 1, pad: 'same', k: 5 },
  { strides: 2, pad: 'same', k: 3 },
  { strides: 1, pad: 'valid', k: 3 },
  { strides: 2, pad: 'valid', k: 5 },
] as const;

const PRECISIONS = ['fp32', 'bf16'] as const;

// Input and output channels: within one of oneDNN's channel blocks (8 on AVX2, 16 on AVX-512), and over
// several with a tail, where its kernels accumulate a block at a time.
const CHANNELS = [
  { c: 5, oc: 16 },
  { c: 40, oc: 20 },
] as const;

describe('one-kernel ReLU convolution in training (OptbenchConv2DBiasRelu) and KerasConv2D', function () {
  let previous: string;
  before(async function () {
    previous = await requireNative();
  });
  after(async function () {
    setNativePrecisionMode('fp32');
    await tf.setBackend(previous);
  });

  for (const precision of PRECISIONS)
    for (const g of GEOMETRIES)
      for (const { c, oc } of CHANNELS) {
        it(`${precision}, ${g.k}x${g.k} stride ${g.strides} ${g.pad}, ${c} -> ${oc} channels: forward and every gradient bit-identical to conv2d + add + relu`, async function () {
          await tf.setBackend('native');
          setNativePrecisionMode(precision);
          try {
            const [n, h] = [3, 11];
            const x = tf.tensor4d(randomArray(n * h * h * c, 900), [n, h, h, c]);
            const w = tf.tensor4d(randomArray(g.k * g.k * c * oc, 901, -0.3, 0.3), [g.k, g.k, c, oc]);
            const b = tf.tensor1d(randomArray(oc, 902, -0.5, 0.5));
            const strides: [number, number] = [g.strides, g.strides];
            const composed = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
              tf.relu(tf.add(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, strides, g.pad), bb));
            const fused = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => {
              const y = fusedConvRelu(xx, ww, bb, { strides, pad: g.pad });
              assert.ok(y !== undefined, 'fused on native while gradients are recorded');
              return y;
            };
            const out = tf.tensor(randomArray(n * h * h * oc, 903), undefined).reshape([-1]);
            // A loss that weights every output differently, keeping the forward's output to compare.
            const run = (f: typeof composed) => {
              let y: tf.Tensor | undefined;
              const grads = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => {
                const o = f(xx, ww, bb);
                y = tf.keep(o.clone());
                return tf.sum(tf.mul(o.reshape([-1]), out.slice(0, o.size)));
              })([x, w, b]);
              return [y!, ...grads];
            };
            const want = run(composed);
            const got = run(fused);
            ['y', 'dx', 'dW', 'db'].forEach((what, i) => assert.deepEqual(bits(got[i]!), bits(want[i]!), `${what} differs`));
            // At inference it is not used: TF.js's own fused kernel runs there.
            assert.equal(fusedConvRelu(x, w, b, { strides, pad: g.pad }), undefined);
            // One kernel forward, no Add or Relu; the weights' gradients alone run no input gradient.
            const all = await kernelNames(() => tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(fused(xx, ww, bb)))([x, w, b]));
            assert.equal(all.filter((k) => k === CONV_KERNEL).length, 1, all.join(' '));
            assert.deepEqual(all.filter((k) => k === 'Add' || k === 'Relu' || k === 'Conv2D'), [], all.join(' '));
            assert.equal(all.filter((k) => k === 'Conv2DBackpropInput').length, 1, all.join(' '));
            const weightsOnly = await kernelNames(() => tf.grads((ww: tf.Tensor, bb: tf.Tensor) => tf.sum(fused(x, ww, bb)))([w, b]));
            assert.equal(weightsOnly.filter((k) => k === 'Conv2DBackpropInput').length, 0, weightsOnly.join(' '));
            assert.equal(weightsOnly.filter((k) => k === 'Conv2DBackpropFilter').length, 1, weightsOnly.join(' '));
            tf.dispose([x, w, b, out, ...want, ...got]);
          } finally {
            setNativePrecisionMode('fp32');
          }
        });
      }

  /** conv2d + add + activation as separate kernels, as TF.js composes FusedConv2D (leakyrelu's alpha 0.3). */
  const ACTIVATIONS = {
    linear: (t: tf.Tensor) => t,
    relu: tf.relu,
    relu6: tf.relu6,
    elu: tf.elu,
    leakyrelu: (t: tf.Tensor) => tf.leakyRelu(t, 0.3),
    sigmoid: tf.sigmoid,
  } as const;

  for (const layout of ['auto', 'blocked'] as const)
    it(`native FusedConv2D, ${layout} layout: conv2d + add + activation bit for bit, for each activation, with and without a bias`, async function () {
      await tf.setBackend('native');
      assert.ok(E.isRight(setNativeConvLayout(layout)));
      try {
        for (const { c, oc } of CHANNELS)
          for (const g of GEOMETRIES) {
            const x = tf.tensor4d(randomArray(2 * 9 * 9 * c, 920), [2, 9, 9, c]);
            const w = tf.tensor4d(randomArray(g.k * g.k * c * oc, 921, -0.3, 0.3), [g.k, g.k, c, oc]);
            const b = tf.tensor1d(randomArray(oc, 922, -0.5, 0.5));
            for (const [activation, act] of Object.entries(ACTIVATIONS))
              for (const bias of [b, undefined]) {
                const what = `${activation}${bias ? ' +bias' : ''} ${c} -> ${oc} ${g.k}x${g.k} stride ${g.strides} ${g.pad}`;
                const fused = () =>
                  tf.fused.conv2d({ x, filter: w, strides: g.strides, pad: g.pad, bias, activation: activation as tf.fused.Activation, leakyreluAlpha: 0.3 });
                const names = await kernelNames(fused);
                assert.deepEqual(names, ['FusedConv2D'], `${what}: one native FusedConv2D`);
                const got = fused();
                const want = act(bias ? tf.add(tf.conv2d(x, w, g.strides, g.pad), bias) : tf.conv2d(x, w, g.strides, g.pad));
                assert.deepEqual(bits(got), bits(want), what);
                tf.dispose([got, want]);
              }
            tf.dispose([x, w, b]);
          }
      } finally {
        setNativeConvLayout('auto');
      }
    });

  it('a NaN in the input stays NaN through the ReLU convolution, as through conv2d + add + relu', async function () {
    await tf.setBackend('native');
    // One input channel, a 1x1 filter to two outputs: pixel 0 is NaN, the others give both signs.
    const x = tf.tensor4d([NaN, 1, -1, 2, 0.5, -3, 0, 0, 1], [1, 3, 3, 1]);
    const w = tf.tensor4d([1, -1], [1, 1, 1, 2]);
    const b = tf.tensor1d([0.25, -0.25]);
    const want = tf.relu(tf.add(tf.conv2d(x, w, 1, 'same'), b));
    const inference = tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'same', bias: b, activation: 'relu' });
    const training = tf.engine().runKernel(CONV_KERNEL, { x, filter: w, bias: b }, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] } as unknown as tf.NamedAttrMap) as tf.Tensor;
    assert.deepEqual(Array.from(want.dataSync().slice(0, 2)), [NaN, NaN], 'the composed ops keep NaN');
    assert.deepEqual(bits(inference), bits(want), 'FusedConv2D');
    assert.deepEqual(bits(training), bits(want), CONV_KERNEL);
    tf.dispose([x, w, b, want, inference, training]);
  });

  /** A KerasConv2D and TF.js's Conv2D with the same settings and the same seeded initializers. */
  const pair = (activation: Activation, g: (typeof GEOMETRIES)[number], inputShape: number[]) => {
    const init = () => ({ kernelInitializer: tf.initializers.glorotUniform({ seed: 77 }), biasInitializer: tf.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed: 78 }) });
    const ours = new KerasConv2D({ filters: 8, kernelSize: g.k, strides: g.strides, padding: g.pad, activation, name: `ours_${activation}`, ...init() });
    const theirs = tf.layers.conv2d({ filters: 8, kernelSize: g.k, strides: g.strides, padding: g.pad, activation, dataFormat: 'channelsLast', name: `theirs_${activation}`, ...init() });
    ours.build(inputShape);
    theirs.build(inputShape);
    return { ours, theirs };
  };

  for (const backend of ['native', 'cpu'] as const)
    for (const activation of ['relu', 'linear', 'tanh', 'sigmoid'] as const) {
      it(`KerasConv2D (${activation}) on ${backend}: the weights, output shape, inference output and training gradients of tf.layers.conv2d`, async function () {
        await tf.setBackend(backend);
        for (const g of GEOMETRIES) {
          const shape = [2, 9, 9, 3];
          const { ours, theirs } = pair(activation, g, shape);
          const what = `${g.k}x${g.k} stride ${g.strides} ${g.pad}`;
          ours.getWeights().forEach((t, i) => assert.deepEqual(bits(t), bits(theirs.getWeights()[i]!), `${what}: initial weight ${i}`));
          assert.deepEqual(ours.computeOutputShape([null, 9, 9, 3]), theirs.computeOutputShape([null, 9, 9, 3]), `${what}: output shape`);
          const x = tf.tensor4d(randomArray(2 * 9 * 9 * 3, 910), [2, 9, 9, 3]);
          const yo = ours.apply(x) as tf.Tensor;
          const yt = theirs.apply(x) as tf.Tensor;
          assert.deepEqual(yo.shape, yt.shape, `${what}: shape`);
          assert.deepEqual(bits(yo), bits(yt), `${what}: inference output`);
          const up = tf.tensor(randomArray(yo.size, 911), yo.shape);
          const train = (layer: tf.layers.Layer) => {
            const vars = layer.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val);
            const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, up)) as tf.Scalar, vars);
            return [value, ...vars.map((v) => grads[v.name]!)];
          };
          const got = train(ours);
          const want = train(theirs);
          const fusedRan = (await kernelNames(() => train(ours))).includes(CONV_KERNEL);
          assert.equal(fusedRan, backend === 'native' && activation === 'relu', `${what}: the one-kernel path runs exactly for ReLU on native`);
          ['loss', 'dW', 'db'].forEach((w, i) => assert.deepEqual(bits(got[i]!), bits(want[i]!), `${what}: ${w} in training`));
          tf.dispose([x, yo, yt, up, ...got, ...want]);
          for (const v of [...ours.weights, ...theirs.weights]) v.dispose();
        }
      });
    }
});
