import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { useBackend } from '../lib/backend/index.js';
import { vae1 } from '../lib/models/vae.js';
import { disposeModel, trainableWeights } from '../lib/models/weights.js';
import { deriveSeed } from '../lib/data/rng.js';
import { vaeNoise } from '../lib/train/losses.js';
import { compareWithKeras, readKerasStep, type KerasStep } from './support/keras-vae.js';

// optbench's VAE against Keras's (issue: do optbench's VAEs stall more often than Keras's?). The fixture
// is written by `bench/keras_vae.py step --model vae1 --seed 0` (TensorFlow 2.21, Keras 3.15): Keras's
// initial weights, one batch of 200 training images with its eps, the loss, every gradient, and one step
// of each of the seven optimizers (at tf.keras 2.x's rules) from those gradients. Loaded into optbench's
// model with the same eps, everything must agree to float32 rounding: the loss (SSE + KL), the
// gradients through the sampling path, the Dense(16) bottleneck and the transposed convolutions, and
// each update rule.

const FIXTURE = 'fixtures/keras-vae/vae1-seed0.json';

describe('VAE1 against Keras: same weights, same batch, same noise', () => {
  let step: KerasStep;
  before(() => {
    step = readKerasStep(FIXTURE);
  });
  after(async () => {
    await useBackend('cpu');
  });

  for (const backend of ['cpu', 'native'] as const) {
    describe(`on ${backend}`, () => {
      let result: ReturnType<typeof compareWithKeras>;
      before(async () => {
        assert.ok(E.isRight(await useBackend(backend)), `${backend} loads`);
        const before = tf.memory().numTensors;
        result = compareWithKeras(step);
        assert.equal(tf.memory().numTensors, before, 'the comparison leaks no tensor');
      });

      it('computes the same loss', () => {
        const { optbench, keras } = result.loss;
        assert.ok(keras > 100 && keras < 200, `an untrained VAE1's loss is about 130 per image, Keras says ${keras}`);
        assert.ok(Math.abs(optbench - keras) <= 1e-5 * keras, `optbench ${optbench}, Keras ${keras}`);
      });

      it('computes the same gradient for each of the 18 weights', () => {
        assert.equal(result.gradients.length, 18);
        // float32 sums over 200 images in another order: seen up to 2.2e-5 (a bias summed over 200 x 14 x 14 x 32).
        for (const g of result.gradients) assert.ok(g.maxRel <= 1e-4 && g.normRel <= 5e-5, `${g.name}: ${JSON.stringify(g)}`);
      });

      it('takes the same first step with each of the seven optimizers', () => {
        assert.deepEqual(Object.keys(result.steps).sort(), ['adadelta', 'adagrad', 'adam', 'adamax', 'nadam', 'rmsprop', 'sgd']);
        // Keras computes the step's scalars (1 - beta2^t, ...) in float32, optbench in float64: seen up to 6e-5.
        for (const [name, gaps] of Object.entries(result.steps))
          for (const g of gaps) assert.ok(g.maxRel <= 2e-4, `${name} ${g.name}: ${JSON.stringify(g)}`);
      });
    });
  }

  it('fails for other noise (the tolerances above can fail)', async () => {
    // On native: TF.js's JavaScript backend takes over a minute for VAE1's convolution gradients at batch 200.
    assert.ok(E.isRight(await useBackend('native')));
    // The same batch with eps scaled by 1.5: beyond the tolerances above in the loss and the gradients.
    const r = compareWithKeras({ ...step, eps: step.eps.map((e) => e * 1.5) });
    assert.ok(Math.abs(r.loss.optbench - r.loss.keras) > 1e-5 * r.loss.keras, `loss ${r.loss.optbench} vs ${r.loss.keras}`);
    assert.ok(r.gradients.filter((g) => g.maxRel > 1e-4).length >= 9, JSON.stringify(r.gradients));
  });
});

interface LayerStats {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly variance: number;
}

describe("VAE1's initial weights against Keras's glorot_uniform, over 100 seeds", () => {
  const keras = JSON.parse(readFileSync('fixtures/keras-vae/inits-vae1.json', 'utf8')) as { layers: LayerStats[] };
  const seeds = 100;
  let mine: LayerStats[] = [];
  /** Per kernel, the correlation of seed s's and seed s+1's values, pooled over the seeds. */
  let lagCorrelation: number[] = [];
  before(async () => {
    assert.ok(E.isRight(await useBackend('cpu')));
    const acc = new Map<string, { shape: number[]; n: number; s: number; s2: number; min: number; max: number; sxy: number; prev?: Float32Array }>();
    for (let seed = 0; seed < seeds; seed++) {
      const built = vae1.build(seed);
      trainableWeights(built).forEach((w, i) => {
        const v = w.read().dataSync() as Float32Array;
        const key = keras.layers[i]!.name;
        const a = acc.get(key) ?? { shape: w.shape as number[], n: 0, s: 0, s2: 0, min: Infinity, max: -Infinity, sxy: 0 };
        for (let j = 0; j < v.length; j++) {
          a.s += v[j]!;
          a.s2 += v[j]! * v[j]!;
          if (v[j]! < a.min) a.min = v[j]!;
          if (v[j]! > a.max) a.max = v[j]!;
          if (a.prev) a.sxy += v[j]! * a.prev[j]!;
        }
        a.n += v.length;
        a.prev = Float32Array.from(v);
        acc.set(key, a);
      });
      disposeModel(built);
    }
    mine = [...acc.entries()].map(([name, a]) => {
      const mean = a.s / a.n;
      return { name, shape: a.shape, values: a.n, min: a.min, max: a.max, mean, variance: a.s2 / a.n - mean * mean };
    });
    lagCorrelation = [...acc.values()].map((a) => (a.s2 === 0 ? 0 : a.sxy / ((a.s2 * (seeds - 1)) / seeds)));
  });

  it('has the layers of Keras, in its order and shapes', () => {
    assert.deepEqual(
      mine.map((l) => `${l.name} ${l.shape.join('x')}`),
      keras.layers.map((l) => `${l.name} ${l.shape.join('x')}`),
    );
  });

  it('draws each kernel from U(-L, L) with Keras limit, mean and variance, and zero biases', () => {
    mine.forEach((l, i) => {
      const k = keras.layers[i]!;
      if (l.name.endsWith('/bias')) {
        assert.ok(l.min === 0 && l.max === 0 && k.min === 0 && k.max === 0, `${l.name} zero in both`);
        return;
      }
      // Keras's limit is sqrt(6 / (fan_in + fan_out)), fans from the kernel's shape (for Conv2DTranspose too).
      const rf = l.shape.slice(0, -2).reduce((a, b) => a * b, 1);
      const limit = Math.sqrt(6 / (rf * (l.shape.at(-2)! + l.shape.at(-1)!)));
      for (const s of [l, k]) {
        assert.ok(s.min >= -limit * (1 + 1e-6) && s.max <= limit * (1 + 1e-6), `${s.name} within +-${limit}`);
        // With n >= 8,000 draws the extremes come within 0.2 % of the limit.
        assert.ok(s.min < -limit * 0.998 && s.max > limit * 0.998, `${s.name} reaches the limits: ${s.min}, ${s.max}`);
        // U(-L, L): mean 0 with sd L / sqrt(3n); variance L^2 / 3 with relative sd sqrt(0.8 / n). 5 sigma.
        assert.ok(Math.abs(s.mean) < (5 * limit) / Math.sqrt(3 * s.values), `${s.name} mean ${s.mean}`);
        assert.ok(Math.abs(s.variance / ((limit * limit) / 3) - 1) < 5 * Math.sqrt(0.8 / s.values), `${s.name} variance ${s.variance}`);
      }
    });
  });

  it("gives successive seeds uncorrelated kernels (each seed's draw is its own)", () => {
    mine.forEach((l, i) => {
      if (l.name.endsWith('/bias')) return;
      // Correlation of independent draws: sd 1 / sqrt(values per seed x (seeds - 1)); 5 sigma.
      const bound = 5 / Math.sqrt((l.values / seeds) * (seeds - 1));
      assert.ok(Math.abs(lagCorrelation[i]!) < bound, `${l.name}: correlation ${lagCorrelation[i]} between seed s and s+1`);
    });
  });
});

describe("the VAE's training noise", () => {
  it('is N(0, 1) within a step and new at every step', async () => {
    assert.ok(E.isRight(await useBackend('cpu')));
    // One run's first epoch: steps 0..299 of seed 0, each a [200, 5] draw, as fit.ts seeds them.
    const draws = Array.from({ length: 300 }, (_, step) =>
      tf.tidy(() => vaeNoise(deriveSeed(0, 1, step))([200, 5]).dataSync() as Float32Array),
    );
    const all = draws.flatMap((d) => Array.from(d));
    const n = all.length;
    const mean = all.reduce((a, b) => a + b, 0) / n;
    const variance = all.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    assert.ok(Math.abs(mean) < 5 / Math.sqrt(n), `mean ${mean}`);
    // The variance of N(0,1) draws has sd sqrt(2 / n).
    assert.ok(Math.abs(variance - 1) < 5 * Math.sqrt(2 / n), `variance ${variance}`);
    // Successive steps' draws are uncorrelated (sd of the correlation of 1,000 pairs: 1 / sqrt(1000)).
    for (let s = 1; s < draws.length; s++) {
      const r = draws[s]!.reduce((acc, x, i) => acc + x * draws[s - 1]![i]!, 0) / draws[s]!.length;
      assert.ok(Math.abs(r) < 5 / Math.sqrt(draws[s]!.length), `steps ${s - 1} and ${s}: correlation ${r}`);
    }
    // The same seed draws the same eps (a resumed run samples as the uninterrupted one).
    assert.deepEqual(draws[7], tf.tidy(() => vaeNoise(deriveSeed(0, 1, 7))([200, 5]).dataSync() as Float32Array));
  });
});
