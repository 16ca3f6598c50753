/**
 * Training on `native` follows training on TF.js's JavaScript CPU backend step by step: FCNN, SCNN and
 * VAE1, 20 Adamax steps at batch 16 from the same weights and batches, losses within 1e-3 relative at
 * every step; and a native training loop neither leaks tensors nor grows the process's memory.
 *
 * The reference backend is `cpu` with its convolution and matrix-product kernels replaced by plain float64
 * loops written here (and checked against the `cpu` kernels below): the JavaScript Conv2DBackpropFilter
 * alone takes over a minute per VAE1 step, which would make this spec take half an hour.
 */
import { strict as assert } from 'node:assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as E from 'fp-ts/lib/Either.js';
import { requireNative } from './support/native.js';
import { BUILT_IN_MODELS, modelWeights, trainableVariables, disposeModel, type BuiltModel } from '../lib/models/index.js';
import { createOptimizer } from '../lib/optimizers/index.js';
import { randomBatches, trainStep, type Batch } from './support/train-step.js';
import { uniform } from './support/random.js';

const REFERENCE = 'cpu-reference';
const STEPS = 20;
const BATCH = 16;
const LOSS_TOL = 1e-3;

type Info = tf.TensorInfo;
type Args = { inputs: tf.NamedTensorInfoMap; backend: MathBackendCPU; attrs: tf.NamedAttrMap };

const vals = (b: MathBackendCPU, t: Info) => b.data.get(t.dataId).values as Float32Array;
const sizeOf = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

// ---- float64 reference kernels (NHWC activations, HWIO filters) ----

interface Geometry {
  n: number; h: number; w: number; c: number; oh: number; ow: number; oc: number;
  kh: number; kw: number; sh: number; sw: number; dh: number; dw: number; pt: number; pl: number;
}
const geometry = (ci: tf.backend_util.Conv2DInfo): Geometry => ({
  n: ci.batchSize, h: ci.inHeight, w: ci.inWidth, c: ci.inChannels, oh: ci.outHeight, ow: ci.outWidth,
  oc: ci.outChannels, kh: ci.filterHeight, kw: ci.filterWidth, sh: ci.strideHeight, sw: ci.strideWidth,
  dh: ci.dilationHeight, dw: ci.dilationWidth, pt: ci.padInfo.top, pl: ci.padInfo.left,
});

/** Calls f(b, oh, ow, kh, kw, xOffset) for every filter tap that lands inside the input. */
const taps = (g: Geometry, f: (yOff: number, xOff: number, wOff: number) => void): void => {
  for (let b = 0; b < g.n; b++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++)
        for (let ky = 0; ky < g.kh; ky++) {
          const iy = oy * g.sh - g.pt + ky * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          for (let kx = 0; kx < g.kw; kx++) {
            const ix = ox * g.sw - g.pl + kx * g.dw;
            if (ix < 0 || ix >= g.w) continue;
            f(((b * g.oh + oy) * g.ow + ox) * g.oc, ((b * g.h + iy) * g.w + ix) * g.c, (ky * g.kw + kx) * g.c * g.oc);
          }
        }
};

const conv2dRef = (x: Float32Array, w: Float32Array, g: Geometry): Float64Array => {
  const y = new Float64Array(g.n * g.oh * g.ow * g.oc);
  taps(g, (yo, xo, wo) => {
    for (let i = 0; i < g.c; i++) {
      const xv = x[xo + i]!;
      const wr = wo + i * g.oc;
      for (let o = 0; o < g.oc; o++) y[yo + o]! += xv * w[wr + o]!;
    }
  });
  return y;
};

const convBackpropInputRef = (dy: Float32Array, w: Float32Array, g: Geometry): Float32Array => {
  const dx = new Float64Array(g.n * g.h * g.w * g.c);
  taps(g, (yo, xo, wo) => {
    for (let i = 0; i < g.c; i++) {
      let s = 0;
      const wr = wo + i * g.oc;
      for (let o = 0; o < g.oc; o++) s += dy[yo + o]! * w[wr + o]!;
      dx[xo + i]! += s;
    }
  });
  return Float32Array.from(dx);
};

const convBackpropFilterRef = (x: Float32Array, dy: Float32Array, g: Geometry): Float32Array => {
  const dw = new Float64Array(g.kh * g.kw * g.c * g.oc);
  taps(g, (yo, xo, wo) => {
    for (let i = 0; i < g.c; i++) {
      const xv = x[xo + i]!;
      const wr = wo + i * g.oc;
      for (let o = 0; o < g.oc; o++) dw[wr + o]! += xv * dy[yo + o]!;
    }
  });
  return Float32Array.from(dw);
};

/** Row-major copy of a (possibly transposed) r x c matrix stored at offset. */
const plain = (a: Float32Array, offset: number, rows: number, cols: number, transposed: boolean): Float64Array => {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) out[i * cols + j] = transposed ? a[offset + j * rows + i]! : a[offset + i * cols + j]!;
  return out;
};

/** C[b] = op(A[b]) op(B[b]) for equal batches (or 2-D), in float64. */
const matmulRef = (a: Float32Array, b: Float32Array, batch: number, m: number, n: number, k: number, ta: boolean, tb: boolean) => {
  const c = new Float64Array(batch * m * n);
  for (let p = 0; p < batch; p++) {
    const A = plain(a, p * m * k, m, k, ta);
    const B = plain(b, p * k * n, k, n, tb);
    for (let i = 0; i < m; i++) {
      const row = (p * m + i) * n;
      for (let q = 0; q < k; q++) {
        const av = A[i * k + q]!;
        const brow = q * n;
        for (let j = 0; j < n; j++) c[row + j]! += av * B[brow + j]!;
      }
    }
  }
  return c;
};

/** Bias (one per output channel) and relu/linear, then rounding to float32; undefined when not covered. */
const epilogue = (y: Float64Array, channels: number, bias: Float32Array | undefined, activation: unknown) => {
  if (activation != null && activation !== 'linear' && activation !== 'relu') return undefined;
  if (bias !== undefined && bias.length !== channels) return undefined;
  const out = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const v = y[i]! + (bias ? bias[i % channels]! : 0);
    out[i] = activation === 'relu' && v < 0 ? 0 : v;
  }
  return out;
};

const convInfo = (xShape: number[], fShape: number[], attrs: tf.NamedAttrMap, dilations: unknown = 1) =>
  tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    fShape as [number, number, number, number],
    attrs['strides'] as [number, number],
    (dilations ?? 1) as number,
    attrs['pad'] as 'same',
    attrs['dimRoundingMode'] as 'floor' | undefined,
  );

const referenceKernels: Record<string, (a: Args) => Info | undefined> = {
  Conv2D: ({ inputs: { x, filter }, backend, attrs }) => {
    const ci = convInfo(x!.shape, filter!.shape, attrs, attrs['dilations']);
    const y = epilogue(conv2dRef(vals(backend, x!), vals(backend, filter!), geometry(ci)), ci.outChannels, undefined, null);
    return backend.makeTensorInfo(ci.outShape, 'float32', y);
  },
  FusedConv2D: ({ inputs: { x, filter, bias, preluActivationWeights }, backend, attrs }) => {
    if (preluActivationWeights != null) return undefined;
    const ci = convInfo(x!.shape, filter!.shape, attrs, attrs['dilations']);
    const y = epilogue(
      conv2dRef(vals(backend, x!), vals(backend, filter!), geometry(ci)),
      ci.outChannels,
      bias ? vals(backend, bias) : undefined,
      attrs['activation'],
    );
    return y && backend.makeTensorInfo(ci.outShape, 'float32', y);
  },
  Conv2DBackpropInput: ({ inputs: { dy, filter }, backend, attrs }) => {
    const shape = attrs['inputShape'] as number[];
    const ci = convInfo(shape, filter!.shape, attrs);
    return backend.makeTensorInfo(shape, 'float32', convBackpropInputRef(vals(backend, dy!), vals(backend, filter!), geometry(ci)));
  },
  Conv2DBackpropFilter: ({ inputs: { x, dy }, backend, attrs }) => {
    const shape = attrs['filterShape'] as number[];
    const ci = convInfo(x!.shape, shape, attrs);
    return backend.makeTensorInfo(shape, 'float32', convBackpropFilterRef(vals(backend, x!), vals(backend, dy!), geometry(ci)));
  },
  BatchMatMul: (args) => referenceKernels['_FusedMatMul']!(args),
  _FusedMatMul: ({ inputs: { a, b, bias, preluActivationWeights }, backend, attrs }) => {
    if (preluActivationWeights != null || a!.shape.length !== b!.shape.length || a!.shape.length > 3) return undefined;
    const r = a!.shape.length;
    const batch = r === 3 ? a!.shape[0]! : 1;
    if (r === 3 && b!.shape[0] !== batch) return undefined;
    const ta = attrs['transposeA'] === true;
    const tb = attrs['transposeB'] === true;
    const m = a!.shape[ta ? r - 1 : r - 2]!;
    const k = a!.shape[ta ? r - 2 : r - 1]!;
    const n = b!.shape[tb ? r - 2 : r - 1]!;
    const y = epilogue(
      matmulRef(vals(backend, a!), vals(backend, b!), batch, m, n, k, ta, tb),
      n,
      bias ? vals(backend, bias) : undefined,
      attrs['activation'],
    );
    return y && backend.makeTensorInfo(r === 3 ? [batch, m, n] : [m, n], 'float32', y);
  },
};

const registerReference = (): void => {
  if (tf.findBackendFactory(REFERENCE) !== null) return;
  for (const cpu of tf.getKernelsForBackend('cpu')) {
    const ref = referenceKernels[cpu.kernelName];
    const kernelFunc: tf.KernelFunc =
      ref === undefined
        ? cpu.kernelFunc
        : (args) => ref({ ...(args as Args), attrs: args.attrs ?? {} }) ?? (cpu.kernelFunc(args) as Info);
    tf.registerKernel({ ...cpu, backendName: REFERENCE, kernelFunc });
  }
  tf.registerBackend(REFERENCE, () => new MathBackendCPU(), 0);
};

// ---- training ----

interface Run {
  readonly model: BuiltModel;
  step(b: Batch, i: number): number;
  dispose(): void;
}

/** A model on the active backend with the given initial weights, trained by Adamax. */
const run = (name: string, weights: readonly Float32Array[] | undefined): Run => {
  const def = BUILT_IN_MODELS.get(name);
  if (E.isLeft(def)) assert.fail(def.left.message);
  const opt = createOptimizer('adamax', { preset: 'tfkeras2' });
  if (E.isLeft(opt)) assert.fail(opt.left.message);
  const model = def.right.build(7);
  if (weights !== undefined)
    modelWeights(model).forEach((w, k) => {
      const t = tf.tensor(weights[k]!, w.shape as number[]);
      w.write(t);
      t.dispose();
    });
  const vars = trainableVariables(model);
  return {
    model,
    step: (b, i) => trainStep(model, opt.right, vars, b, 1000 + i),
    dispose: () => {
      opt.right.dispose();
      disposeModel(model);
    },
  };
};

const finalWeights = (model: BuiltModel): Float32Array[] =>
  modelWeights(model).map((w) => Float32Array.from(w.read().dataSync()));

const rss = (): number => {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().rss;
};

describe('training on native follows the JavaScript cpu backend', function () {
  let previous: string;

  before(async function () {
    previous = await requireNative();
    registerReference();
  });

  after(async function () {
    await tf.setBackend(previous);
  });

  it('the float64 reference kernels agree with the cpu kernels', async function () {
    const r = uniform(5);
    const arr = (n: number) => Float32Array.from({ length: n }, () => 2 * r() - 1);
    const cases: [string, (xs: tf.Tensor[]) => tf.Tensor, number[][]][] = [
      ['conv valid', (xs) => tf.conv2d(xs[0] as tf.Tensor4D, xs[1] as tf.Tensor4D, 1, 'valid'), [[2, 7, 7, 3], [3, 3, 3, 4]]],
      ['conv same s2', (xs) => tf.conv2d(xs[0] as tf.Tensor4D, xs[1] as tf.Tensor4D, 2, 'same'), [[2, 8, 8, 3], [3, 3, 3, 4]]],
      ['fused conv relu', (xs) => tf.fused.conv2d({ x: xs[0] as tf.Tensor4D, filter: xs[1] as tf.Tensor4D, strides: 2, pad: 'same', bias: xs[2], activation: 'relu' }), [[2, 8, 8, 3], [3, 3, 3, 4], [4]]],
      ['conv transpose', (xs) => tf.conv2dTranspose(xs[0] as tf.Tensor4D, xs[1] as tf.Tensor4D, [2, 14, 14, 3], 2, 'same'), [[2, 7, 7, 4], [3, 3, 3, 4]]],
      ['conv grads', (xs) => tf.addN(tf.grads((x: tf.Tensor, f: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'same'))))([xs[0]!, xs[1]!]).map((g) => tf.sum(tf.square(g)))), [[2, 8, 8, 3], [3, 3, 3, 4]]],
      ['filter grad', (xs) => tf.grads((f: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xs[0] as tf.Tensor4D, f as tf.Tensor4D, 2, 'same'))))([xs[1]!])[0]!, [[2, 9, 9, 3], [5, 5, 3, 4]]],
      ['matmul', (xs) => tf.matMul(xs[0]!, xs[1]!, true, false), [[5, 4], [5, 3]]],
      ['fused matmul', (xs) => tf.fused.matMul({ a: xs[0] as tf.Tensor2D, b: xs[1] as tf.Tensor2D, transposeB: true, bias: xs[2], activation: 'relu' }), [[4, 5], [3, 5], [3]]],
    ];
    for (const [what, f, shapes] of cases) {
      const inputs = shapes.map((s) => ({ s, d: arr(sizeOf(s)) }));
      const on = async (backend: string) => {
        await tf.setBackend(backend);
        return tf.tidy(() => Array.from(f(inputs.map((i) => tf.tensor(i.d, i.s))).dataSync()));
      };
      const want = await on('cpu');
      const got = await on(REFERENCE);
      const scale = Math.max(...want.map(Math.abs));
      got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) <= 1e-5 * scale, `${what}: ${g} vs ${want[i]}`));
    }
  });

  for (const name of ['fcnn', 'scnn', 'vae1']) {
    it(`${name}: ${STEPS} Adamax steps at batch ${BATCH} give the same losses (within ${LOSS_TOL} relative)`, async function () {
      const data = randomBatches(STEPS, BATCH, 11);
      await tf.setBackend('native');
      const native = run(name, undefined);
      const initial = finalWeights(native.model);
      const nativeLosses = data.map((b, i) => native.step(b, i));
      const nativeFinal = finalWeights(native.model);
      native.dispose();

      await tf.setBackend(REFERENCE);
      const reference = run(name, initial);
      const referenceLosses = data.map((b, i) => reference.step(b, i));
      const referenceFinal = finalWeights(reference.model);
      reference.dispose();
      // The weights moved the same way: |change on native - change on reference| / |change on reference|.
      let diff = 0;
      let norm = 0;
      referenceFinal.forEach((w, k) =>
        w.forEach((v, i) => {
          const dRef = v - initial[k]![i]!;
          const dNat = nativeFinal[k]![i]! - initial[k]![i]!;
          diff += (dNat - dRef) ** 2;
          norm += dRef ** 2;
        }),
      );
      const drift = Math.sqrt(diff / norm);

      const worst = Math.max(...nativeLosses.map((l, i) => Math.abs(l - referenceLosses[i]!) / Math.abs(referenceLosses[i]!)));
      console.log(
        `      ${name}: losses ${referenceLosses[0]!.toFixed(4)} -> ${referenceLosses[STEPS - 1]!.toFixed(4)}, ` +
          `max relative difference ${worst.toExponential(2)}; weight updates differ by ${drift.toExponential(2)} (relative norm)`,
      );
      assert.ok(drift < 1e-2, `${name}: weight updates differ by ${drift} (relative norm)`);
      nativeLosses.forEach((l, i) =>
        assert.ok(
          Number.isFinite(l) && Math.abs(l - referenceLosses[i]!) <= LOSS_TOL * Math.abs(referenceLosses[i]!),
          `${name} step ${i}: native loss ${l} vs reference ${referenceLosses[i]}`,
        ),
      );
      // The losses must move, or the comparison would be vacuous.
      assert.notEqual(referenceLosses[0], referenceLosses[STEPS - 1]);
    });
  }

  it('repeated native steps leak no tensors and keep the resident memory flat', async function () {
    await tf.setBackend('native');
    for (const name of ['scnn', 'vae1']) {
      const r = run(name, undefined);
      const data = randomBatches(4, BATCH, 12);
      for (let i = 0; i < 10; i++) r.step(data[i % 4]!, i);
      const tensors = tf.memory().numTensors;
      const bytes = tf.memory().numBytes;
      const before = rss();
      for (let i = 0; i < 60; i++) r.step(data[i % 4]!, i);
      const grown = (rss() - before) / 2 ** 20;
      assert.equal(tf.memory().numTensors, tensors, `${name}: tensors leaked`);
      assert.equal(tf.memory().numBytes, bytes, `${name}: tensor bytes grew`);
      assert.ok(grown < 24, `${name}: resident memory grew by ${grown.toFixed(1)} MiB over 60 steps`);
      r.dispose();
    }
  });
});
