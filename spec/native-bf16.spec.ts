/**
 * bf16 convolutions and matrix products on `native` (lib/backend/native-precision.ts) against TF.js's
 * float32 JavaScript kernels (`cpu`), with a bound derived from bf16's 8-bit significand.
 *
 * The bound. bf16 keeps 8 significant bits, so rounding to nearest has a unit roundoff u = 2^-8: a rounded
 * operand is a(1 + d) with |d| <= u. A product of two rounded operands is ab(1 + d1)(1 + d2), off by at most
 * (2u + u^2)|a||b|; the products are then summed in float32 (as in the reference), which adds at most
 * about k 2^-24 per term for a sum of k terms, on either side. So every output element y of a product or
 * convolution obeys
 *
 *     |y_bf16 - y_fp32| <= ((2u + u^2) + 2 k 2^-24) (|A| * |B|)
 *
 * where (|A| * |B|) is the same kernel applied to the absolute values of its operands: the sum of the
 * terms' sizes, computed here by the cpu kernel itself. Bias and ReLU epilogues are float32 and
 * 1-Lipschitz, so the bound carries through them. The check is per element, and it could fail: a product
 * in float16, a bf16 output (one more rounding of y) or a wrong operand all break it. That bf16 really
 * happened is checked too: some element must be off by more than u/16 of its bound's scale, which
 * float32 arithmetic (errors ~1e-7) never is.
 *
 * Each kernel runs in the addon's two bf16 modes: 'bf16' (oneDNN's bf16 primitives where oneDNN has them
 * beyond its reference loops, per primitive, else the emulation) and 'bf16-emulated' (operands rounded to
 * bf16, float32 primitives). On a CPU with avx512_bf16 or AMX the two are different code and must agree
 * up to float32 summation order; on others they are the same code and agree exactly. The probe's answer
 * is checked against the CPU's ISA, and 20 training steps in bf16 follow float32 within a tolerance set
 * out below.
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { requireNative } from './support/native.js';
import { uniform } from './support/random.js';
import { nativeFallbacks } from '../lib/backend/native-kernels.js';
import {
  bf16Support,
  nativePrecisionMode,
  setNativePrecisionMode,
  checkPrecision,
  withPrecision,
  type PrecisionMode,
} from '../lib/backend/native-precision.js';
import { BUILT_IN_MODELS, modelWeights, trainableVariables, disposeModel } from '../lib/models/index.js';
import { createOptimizer } from '../lib/optimizers/index.js';
import { batchTensors, randomBatches, trainStep, trainingLoss } from './support/train-step.js';

/** bf16's unit roundoff: 8 significant bits, round to nearest. */
const U = 2 ** -8;
const F32_EPS = 2 ** -24;
const bound = (k: number) => 2 * U + U * U + 2 * k * F32_EPS;
/** Training tolerances; see the training tests below for why. */
const GRAD_TOL = 32 * U;
const DRIFT_TOL = 0.5;

const sizeOf = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const randomArray = (n: number, seed: number): Float32Array => {
  const r = uniform(seed);
  // Spread over several binades, so that rounding to bf16 loses different amounts.
  return Float32Array.from({ length: n }, () => (2 * r() - 1) * 2 ** Math.floor(4 * r() - 2));
};

interface Case {
  readonly kernel: string;
  readonly name: string;
  /** Operand shapes; the first `products` of them are the product's operands (the rest: bias). */
  readonly shapes: number[][];
  /** Length of each output's sum of products (for the float32 summation term). */
  readonly k: number;
  readonly f: (...xs: tf.Tensor[]) => tf.Tensor;
  /** The same kernel on |operands|, without the epilogue: the bound's scale. */
  readonly scale: (...xs: tf.Tensor[]) => tf.Tensor;
}

const conv = (x: number[], f: number[], s: number, pad: 'same' | 'valid'): Case => ({
  kernel: 'Conv2D',
  name: `x${x.join('x')} f${f.join('x')} s${s} ${pad}`,
  shapes: [x, f],
  k: f[0]! * f[1]! * f[2]!,
  f: (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad),
  scale: (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad),
});

const outShape = (x: number[], f: number[], s: number, pad: 'same' | 'valid') =>
  tf.backend_util.computeConv2DInfo(x as [number, number, number, number], f as [number, number, number, number], s, 1, pad)
    .outShape;

const CASES: Case[] = [
  conv([2, 9, 9, 3], [3, 3, 3, 5], 1, 'same'),
  conv([3, 28, 28, 1], [5, 5, 1, 8], 1, 'valid'),
  conv([2, 14, 14, 4], [3, 3, 4, 6], 2, 'same'),
  {
    kernel: 'FusedConv2D',
    name: 'bias relu x2x8x8x3 f3x3x3x4 s1 same',
    shapes: [[2, 8, 8, 3], [3, 3, 3, 4], [4]],
    k: 27,
    f: (x, w, b) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias: b, activation: 'relu' }),
    scale: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
  },
  ...[
    { x: [2, 9, 9, 3], f: [3, 3, 3, 5], s: 1, pad: 'same' as const },
    { x: [2, 14, 14, 4], f: [5, 5, 4, 6], s: 2, pad: 'same' as const },
  ].flatMap(({ x, f, s, pad }): Case[] => {
    const y = outShape(x, f, s, pad);
    const name = `x${x.join('x')} f${f.join('x')} s${s} ${pad}`;
    const backInput = (dy: tf.Tensor, w: tf.Tensor) =>
      tf.conv2dTranspose(dy as tf.Tensor4D, w as tf.Tensor4D, x as [number, number, number, number], s, pad);
    const backFilter = (xx: tf.Tensor, dy: tf.Tensor) =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x: xx, dy }, { strides: [s, s], pad, dataFormat: 'NHWC', filterShape: f } as unknown as tf.NamedAttrMap) as tf.Tensor;
    return [
      { kernel: 'Conv2DBackpropInput', name, shapes: [y, f], k: f[0]! * f[1]! * f[3]!, f: backInput, scale: backInput },
      { kernel: 'Conv2DBackpropFilter', name, shapes: [x, y], k: y[0]! * y[1]! * y[2]!, f: backFilter, scale: backFilter },
    ];
  }),
  ...[
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ].map(([ta, tb]): Case => {
    const [m, n, k] = [7, 11, 37];
    const mm = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, ta, tb);
    return { kernel: 'BatchMatMul', name: `${m}x${n}x${k} ta=${ta} tb=${tb}`, shapes: [ta ? [k, m] : [m, k], tb ? [n, k] : [k, n]], k, f: mm, scale: mm };
  }),
  {
    kernel: 'BatchMatMul',
    name: 'batched 3x5x4x9',
    shapes: [[3, 5, 9], [3, 9, 4]],
    k: 9,
    f: (a, b) => tf.matMul(a, b),
    scale: (a, b) => tf.matMul(a, b),
  },
  {
    kernel: '_FusedMatMul',
    name: 'bias relu 16x10x100',
    shapes: [[16, 100], [100, 10], [10]],
    k: 100,
    f: (a, b, c) => tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias: c, activation: 'relu' }),
    scale: (a, b) => tf.matMul(a, b),
  },
];

/** Runs f on fresh tensors of the inputs on the backend; the output as float64. */
const runOn = async (
  backend: string,
  inputs: readonly { shape: number[]; data: Float32Array }[],
  f: (...xs: tf.Tensor[]) => tf.Tensor,
): Promise<Float64Array> => {
  await tf.setBackend(backend);
  const y = tf.tidy(() => f(...inputs.map((i) => tf.tensor(i.data.slice(), i.shape))));
  const out = Float64Array.from(y.dataSync());
  y.dispose();
  return out;
};

/** The largest |y - ref| / scale over the output, after checking each element against its bound. */
const worstAgainst = (label: string, y: Float64Array, ref: Float64Array, scale: Float64Array, tol: number): number => {
  assert.equal(y.length, ref.length, `${label}: output size`);
  let worst = 0;
  for (let i = 0; i < y.length; i++) {
    const s = Math.max(scale[i]!, 1e-30);
    const err = Math.abs(y[i]! - ref[i]!);
    assert.ok(err <= tol * s + 1e-30, `${label}: element ${i} is ${y[i]} vs ${ref[i]}, off by ${err.toExponential(2)} > ${tol.toExponential(2)} x ${s.toExponential(2)}`);
    worst = Math.max(worst, err / s);
  }
  return worst;
};

const MODES: PrecisionMode[] = ['bf16', 'bf16-emulated'];

describe('bf16 convolutions and products on native', function () {
  let previous: string;
  const table: string[] = [];

  before(async function () {
    previous = await requireNative();
  });

  after(async function () {
    setNativePrecisionMode('fp32');
    await tf.setBackend(previous);
    if (table.length > 0) console.log(`  worst |bf16 - fp32| / (|A| * |B|), per mode (bound ${bound(1).toExponential(2)} + k 2^-23):\n${table.join('\n')}`);
  });

  afterEach(function () {
    setNativePrecisionMode('fp32');
  });

  it("the probe matches the CPU: fast bf16 exactly where it has avx512_bf16 or AMX (oneDNN's own kernels), emulated elsewhere", function () {
    const support = bf16Support();
    assert.ok(support !== undefined);
    const { probe, fast } = support;
    console.log(`    oneDNN bf16 here: ${JSON.stringify(probe)}`);
    const impls = [probe.convForward, probe.convBackwardData, probe.convBackwardWeights, probe.matmul];
    assert.equal(fast, impls.every((s) => !s.startsWith('ref') && !s.startsWith('unavailable')));
    if (probe.isa === 'avx512_core_bf16' || probe.isa === 'avx512_core_amx') assert.ok(fast, 'a bf16-capable CPU should get oneDNN bf16 kernels');
    if (['sse41', 'avx', 'avx2', 'avx2_vnni'].includes(probe.isa)) assert.ok(!fast, 'oneDNN 2.6 has no fast bf16 below AVX-512');
  });

  for (const c of CASES)
    for (const mode of MODES)
      it(`${c.kernel} ${c.name} (${mode}) is within the bf16 bound of the float32 kernel, and is bf16`, async function () {
        const inputs = c.shapes.map((shape, i) => ({ shape, data: randomArray(sizeOf(shape), 100 + 7 * i + c.k) }));
        const abs = inputs.map((i) => ({ shape: i.shape, data: i.data.map(Math.abs) }));
        const ref = await runOn('cpu', inputs, c.f);
        const scale = await runOn('cpu', abs, c.scale);
        setNativePrecisionMode(mode);
        const before = nativeFallbacks();
        const y = await runOn('native', inputs, c.f);
        assert.equal(nativeFallbacks(), before, `${c.kernel} ${c.name}: ran in JavaScript, not in C++`);
        const worst = worstAgainst(`${c.kernel} ${c.name} ${mode}`, y, ref, scale, bound(c.k));
        table.push(`    ${`${c.kernel} ${c.name}`.padEnd(52)} ${mode.padEnd(14)} ${worst.toExponential(2)}`);
        assert.ok(worst > U / 16, `${c.kernel} ${c.name}: at most ${worst.toExponential(2)} from float32, so the operands were not rounded to bf16`);
      });

  it('operands that are already bf16 numbers give the float32 result (no rounding of outputs)', async function () {
    // Rounding the operands of each case to bf16 first leaves only float32 summation order as a difference.
    for (const c of CASES.filter((x) => x.kernel === 'Conv2D' || x.kernel === 'BatchMatMul')) {
      const inputs = c.shapes.map((shape, i) => {
        const d = randomArray(sizeOf(shape), 300 + i);
        const b = new Uint32Array(d.buffer);
        for (let j = 0; j < b.length; j++) b[j] = b[j]! & 0xffff0000; // truncation gives a bf16 number
        return { shape, data: d };
      });
      const abs = inputs.map((i) => ({ shape: i.shape, data: i.data.map(Math.abs) }));
      const ref = await runOn('cpu', inputs, c.f);
      const scale = await runOn('cpu', abs, c.scale);
      for (const mode of MODES) {
        setNativePrecisionMode(mode);
        worstAgainst(`${c.kernel} ${c.name} ${mode} on bf16 operands`, await runOn('native', inputs, c.f), ref, scale, 2 * c.k * F32_EPS);
      }
      setNativePrecisionMode('fp32');
    }
  });

  it("'bf16' and the emulation agree up to float32 summation order", async function () {
    for (const c of CASES) {
      const inputs = c.shapes.map((shape, i) => ({ shape, data: randomArray(sizeOf(shape), 500 + i) }));
      const scale = await runOn('cpu', inputs.map((i) => ({ shape: i.shape, data: i.data.map(Math.abs) })), c.scale);
      setNativePrecisionMode('bf16');
      const oneDnn = await runOn('native', inputs, c.f);
      setNativePrecisionMode('bf16-emulated');
      const emulated = await runOn('native', inputs, c.f);
      worstAgainst(`${c.kernel} ${c.name}: bf16 vs emulated`, oneDnn, emulated, scale, 2 * c.k * F32_EPS);
    }
  });

  it('checkPrecision: bf16 needs native and changes nothing; withPrecision scopes the mode to one computation', async function () {
    await tf.setBackend('cpu');
    const refused = checkPrecision('bf16');
    assert.ok(E.isLeft(refused) && refused.left._tag === 'BackendUnavailable' && /needs the 'native' backend/.test(refused.left.message));
    await tf.setBackend('native');
    setNativePrecisionMode('fp32');
    const ok = checkPrecision('bf16');
    assert.ok(E.isRight(ok));
    assert.equal(nativePrecisionMode(), 'fp32', 'checking sets nothing');
    // A warning exactly where the products are emulated.
    assert.equal(ok.right.warning !== undefined, !bf16Support()!.fast);
    const inside = withPrecision('bf16', () => [nativePrecisionMode(), withPrecision('fp32', () => nativePrecisionMode()), nativePrecisionMode()]);
    assert.deepEqual(inside, ['bf16', 'fp32', 'bf16'], 'scopes nest');
    assert.equal(nativePrecisionMode(), 'fp32', 'the mode before is back');
    assert.throws(() => withPrecision('bf16', () => { throw new Error('boom'); }), /boom/);
    assert.equal(nativePrecisionMode(), 'fp32', 'and back after a throw');
  });

  /**
   * Training: 20 Adamax steps at batch 16 from the same weights and batches, bf16 against float32, both on
   * native.
   * - The first batch's gradients, from equal weights: each variable's within 32u = 1/8 (Euclidean,
   *   relative). Each product is within 2u of its terms' sizes, but a weight gradient sums over the batch
   *   with much cancellation (at initialisation the classes' pulls nearly cancel), and the backward pass
   *   chains up to four products: measured 10-21u (4-8e-2). A zeroed gradient is off by 1, a wrong sign 2.
   * - The loss at step 1 within 4u relative: a forward pass of up to four product layers, each within 2u
   *   of its operands' sizes (measured 1e-6 to 3e-4); every later step's within 8u = 2^-5, the weights
   *   having drifted by at most 20 lr each (measured up to 3e-3).
   * - The weights' change over the 20 steps within 0.5 (relative norm): Adamax's first steps are nearly
   *   lr sign(g) per weight, so each gradient element whose sign bf16 flips moves by 2 lr (measured
   *   0.12-0.21); a dropped update is off by 1.
   */
  for (const name of ['fcnn', 'scnn', 'vae1']) {
    it(`${name}: 20 training steps in bf16 follow float32 (gradients within 32u, losses within 4u then 8u, weight changes within 0.5)`, async function () {
      this.timeout(600_000);
      await tf.setBackend('native');
      const batches = randomBatches(20, 16, 11);
      const train = (mode: PrecisionMode): { losses: number[]; change: Float64Array; grads: Float64Array[] } => {
        setNativePrecisionMode(mode);
        const def = BUILT_IN_MODELS.get(name);
        const opt = createOptimizer('adamax', { preset: 'tfkeras2' });
        if (E.isLeft(def) || E.isLeft(opt)) assert.fail('model or optimizer missing');
        const model = def.right.build(7);
        const vars = trainableVariables(model);
        const flat = () => Float64Array.from(modelWeights(model).flatMap((w) => Array.from(w.read().dataSync())));
        const initial = flat();
        // The first batch's gradients, from the initial weights (the same in both modes).
        const gradTensors = tf.tidy(() => {
          const { x, y } = batchTensors(batches[0]!);
          const { grads: g } = tf.variableGrads(() => trainingLoss(model, x, y, 1000), vars);
          return vars.map((v) => g[v.name]!);
        });
        const grads = gradTensors.map((t) => Float64Array.from(t.dataSync()));
        tf.dispose(gradTensors);
        const losses = batches.map((b, i) => trainStep(model, opt.right, vars, b, 1000 + i));
        const change = flat().map((w, i) => w - initial[i]!);
        opt.right.dispose();
        disposeModel(model);
        return { losses, change, grads };
      };
      const full = train('fp32');
      const half = train('bf16');
      const [fp32, bf16] = [full.losses, half.losses];
      // How far the weights moved differently: |change bf16 - change fp32| / |change fp32| (Euclidean).
      let num = 0;
      let den = 0;
      full.change.forEach((d, i) => {
        num += (half.change[i]! - d) ** 2;
        den += d * d;
      });
      const drift = Math.sqrt(num / den);
      const gradError = Math.max(
        ...full.grads.map((g, k) => {
          let e = 0;
          let n = 0;
          g.forEach((v, i) => {
            e += (half.grads[k]![i]! - v) ** 2;
            n += v * v;
          });
          return Math.sqrt(e / n);
        }),
      );
      const rel = bf16.map((l, i) => Math.abs(l - fp32[i]!) / Math.abs(fp32[i]!));
      console.log(`    ${name}: loss fp32 ${fp32[0]!.toFixed(4)} -> ${fp32[19]!.toFixed(4)}, bf16 ${bf16[0]!.toFixed(4)} -> ${bf16[19]!.toFixed(4)}; relative difference step 1 ${rel[0]!.toExponential(2)}, worst ${Math.max(...rel).toExponential(2)}; first gradients ${gradError.toExponential(2)}; weight change ${drift.toExponential(2)}`);
      assert.ok(gradError <= GRAD_TOL, `${name}: the first gradients differ by ${gradError} (relative), more than 32u`);
      assert.ok(drift <= DRIFT_TOL, `${name}: the weights moved ${drift} (relative) differently in bf16, more than ${DRIFT_TOL}`);
      assert.ok(rel[0]! <= 4 * U, `${name}: step 1 differs by ${rel[0]} > 4u`);
      rel.forEach((e, i) => assert.ok(e <= 8 * U, `${name}: step ${i + 1} differs by ${e} > 8u`));
      assert.ok(Math.max(...rel) > 1e-6, `${name}: bf16 training equals float32, so bf16 was not used`);
    });
  }
});
