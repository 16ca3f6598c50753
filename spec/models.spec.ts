import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import {
  MODELS,
  SeededDropout,
  countParameters,
  dense,
  disposeModel,
  BUILT_IN_MODELS,
  dropoutScope,
  modelRegistry,
  modelWeights,
  nonTrainableWeights,
  seededDropout,
  trainableVariables,
  trainableWeights,
  type BuiltModel,
  type DropoutScope,
  type ModelDef,
} from '../lib/models/index.js';
import { mixSeed } from '../lib/models/hash.js';

const def = (name: string): ModelDef => {
  const m = BUILT_IN_MODELS.get(name);
  if (E.isLeft(m)) throw new Error(m.left.message);
  return m.right;
};

/** Builds, runs `fn`, disposes: the model never outlives the test. */
const withBuilt = <T>(name: string, seed: number, fn: (b: BuiltModel) => T): T => {
  const b = def(name).build(seed);
  try {
    return fn(b);
  } finally {
    disposeModel(b);
  }
};

const values = (b: BuiltModel): Float32Array[] => modelWeights(b).map((w) => w.read().dataSync() as Float32Array);

const isKernel = (name: string) => /\/kernel(_\d+)?$/.test(name);
const isBias = (name: string) => /\/bias(_\d+)?$/.test(name);

/** Keras's fans: a conv kernel [kh, kw, in, out] has fan_in = kh*kw*in, fan_out = kh*kw*out. */
const glorotLimit = (shape: readonly number[]): number => {
  const rf = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const fanIn = shape[shape.length - 2]! * rf;
  const fanOut = shape[shape.length - 1]! * rf;
  return Math.sqrt(6 / (fanIn + fanOut));
};

describe('models', () => {
  let start = 0;
  before(async () => {
    await tf.setBackend('cpu');
    start = tf.memory().numTensors;
  });
  afterEach(() => {
    assert.equal(tf.memory().numTensors, start, 'every tensor and variable is disposed');
  });

  describe('registry', () => {
    it('has the study six with Keras parameter counts', () => {
      // Reference counts from spec/study-protocol.md (and Keras's model.summary()).
      const expected: Record<string, number> = {
        fcnn: 1_069_670,
        scnn: 578_150,
        bcnn: 283_158,
        mcnn: 1_695_210,
        vae1: 143_675,
        vae2: 992_485,
      };
      assert.deepEqual(
        MODELS.map((m) => m.name),
        Object.keys(expected),
      );
      const listed = BUILT_IN_MODELS.list();
      for (const [name, n] of Object.entries(expected)) {
        assert.equal(withBuilt(name, 1, countParameters), n, name);
        const info = listed.find((l) => l.name === name);
        assert.equal(info?.parameters, n, `list() ${name}`);
        assert.equal(info?.kind, name.startsWith('vae') ? 'vae' : 'classifier');
      }
    });

    it('FCNN count matches the Dense formula layer by layer', () => {
      const layer = (i: number, o: number) => i * o + o;
      const n = layer(784, 784) + layer(784, 512) + layer(512, 100) + layer(100, 10);
      assert.equal(withBuilt('fcnn', 3, countParameters), n);
    });

    it('counts BatchNormalization moving statistics as non-trainable weights', () =>
      withBuilt('mcnn', 1, (b) => {
        const non = nonTrainableWeights(b);
        assert.equal(non.length, 2);
        assert.deepEqual(
          non.map((w) => w.shape),
          [[512], [512]],
        );
        const trainable = trainableWeights(b).reduce((s, w) => s + w.shape.reduce<number>((p, d) => p * d!, 1), 0);
        assert.equal(trainable + 2 * 512, countParameters(b));
        assert.equal(trainableVariables(b).length, trainableWeights(b).length);
        assert.ok(trainableVariables(b).every((v) => v instanceof tf.Variable && v.trainable));
        if (b.kind !== 'classifier') return assert.fail('mcnn is a classifier');
        const bn = b.net.getLayer('batchnorm').getConfig();
        assert.equal(bn['momentum'], 0.99);
        assert.equal(bn['epsilon'], 1e-3);
      }));

    it('suggests the nearest name for an unknown model', () => {
      const r = BUILT_IN_MODELS.get('fcn');
      assert.ok(E.isLeft(r));
      assert.equal(r.left._tag, 'UnknownName');
      assert.equal(r.left.suggestion, 'fcnn');
      assert.match(r.left.message, /Did you mean 'fcnn'/);
      const v = BUILT_IN_MODELS.get('vea2');
      assert.ok(E.isLeft(v) && v.left.suggestion === 'vae2');
      assert.ok(E.isRight(BUILT_IN_MODELS.get('MCNN')), 'names are case-insensitive');
    });

    describe('user models', () => {
      const tiny = (name: string, units = 7): ModelDef => ({
        name,
        kind: 'classifier',
        description: 'a tiny test classifier',
        inputShape: [28, 28, 1],
        build: (seed) => {
          const net = tf.sequential();
          net.add(tf.layers.flatten({ inputShape: [28, 28, 1] }));
          net.add(dense(seed, 0, { units, activation: 'linear', name: 'out' }));
          return { kind: 'classifier', net };
        },
      });
      it('a registry with a user model lists and builds it; the built-ins and other registries stay as they were', () => {
        const r = modelRegistry([tiny('tiny')]);
        assert.ok(E.isRight(r));
        assert.ok(r.right.names().includes('tiny'));
        assert.equal(r.right.list().find((m) => m.name === 'tiny')?.parameters, 784 * 7 + 7);
        const b = E.getOrElseW(() => assert.fail('tiny'))(r.right.get('tiny')).build(5);
        try {
          assert.equal(b.kind, 'classifier');
          if (b.kind !== 'classifier') return;
          const y = tf.tidy(() => (b.net.predict(tf.ones([3, 28, 28, 1])) as tf.Tensor).shape);
          assert.deepEqual(y, [3, 7]);
        } finally {
          disposeModel(b);
        }
        assert.ok(E.isLeft(BUILT_IN_MODELS.get('tiny')), 'the built-ins are a value: adding to a registry changes no other');
        const other = E.getOrElseW(() => assert.fail('other'))(modelRegistry([tiny('tiny', 3)]));
        assert.equal(other.list().find((m) => m.name === 'tiny')?.parameters, 784 * 3 + 3, 'two registries, two models named tiny');
      });

      it('refuses duplicate, built-in and malformed names', () => {
        const r0 = modelRegistry([tiny('tiny')]);
        assert.ok(E.isRight(r0));
        for (const name of ['tiny', 'fcnn', 'Bad Name', '', '9lives']) {
          const r = r0.right.with(tiny(name));
          assert.ok(E.isLeft(r), name);
          assert.equal(r.left._tag, 'InvalidConfig');
          assert.equal(r.left.path, 'model.name');
        }
        const twice = modelRegistry([tiny('tiny'), tiny('tiny')]);
        assert.ok(E.isLeft(twice) && twice.left.path === 'model.name', 'one name twice in one list');
      });

      it('refuses a model whose build breaks the contract, without leaking', () => {
        const wrongKind: ModelDef = { ...tiny('broken'), kind: 'vae' };
        const r1 = modelRegistry([wrongKind]);
        assert.ok(E.isLeft(r1) && r1.left.path === 'model.build', 'kind mismatch');
        const throws: ModelDef = {
          ...tiny('broken'),
          build: () => {
            throw new Error('boom');
          },
        };
        const r2 = modelRegistry([throws]);
        assert.ok(E.isLeft(r2) && /boom/.test(r2.left.message));
      });
    });
  });

  describe('architecture', () => {
    it('classifiers map [n,28,28,1] to [n,10] logits', () => {
      for (const name of ['fcnn', 'scnn', 'bcnn', 'mcnn']) {
        withBuilt(name, 2, (b) => {
          assert.equal(b.kind, 'classifier');
          if (b.kind !== 'classifier') return;
          tf.tidy(() => {
            const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 1);
            const y = b.net.predict(x) as tf.Tensor;
            assert.deepEqual(y.shape, [2, 10]);
            const yt = b.net.apply(x, { training: true, dropout: dropoutScope(1) }) as tf.Tensor;
            assert.deepEqual(yt.shape, [2, 10]);
            // Logits, not probabilities: rows need not sum to one (they would after a softmax).
            const sums = y.sum(1).dataSync();
            assert.ok(Array.from(sums).some((s) => Math.abs(s - 1) > 1e-3), `${name} outputs logits`);
          });
        });
      }
    });

    it('VAE encoders give [zMean, zLogVar] and decoders [n,28,28,1] in [0,1]', () => {
      for (const [name, latent] of [
        ['vae1', 5],
        ['vae2', 10],
      ] as const) {
        withBuilt(name, 2, (b) => {
          assert.equal(b.kind, 'vae');
          if (b.kind !== 'vae') return;
          assert.equal(b.latent, latent);
          tf.tidy(() => {
            const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 1);
            const out = b.encoder.predict(x) as tf.Tensor[];
            assert.equal(out.length, 2);
            assert.deepEqual(out[0]!.shape, [2, latent]);
            assert.deepEqual(out[1]!.shape, [2, latent]);
            // Large |z| pushes the sigmoid towards its ends: still inside [0, 1].
            const z = tf.randomNormal([3, latent], 0, 10, 'float32', 4);
            const img = b.decoder.predict(z) as tf.Tensor;
            assert.deepEqual(img.shape, [3, 28, 28, 1]);
            const d = img.dataSync();
            assert.ok(d.every((v) => v >= 0 && v <= 1));
          });
        });
      }
    });
  });

  describe('initial weights', () => {
    it('kernels are glorot uniform, biases zero, batch norm at its identity', () => {
      for (const m of MODELS) {
        withBuilt(m.name, 11, (b) => {
          for (const w of modelWeights(b)) {
            const v = w.read().dataSync();
            const shape = w.shape as number[];
            if (isKernel(w.name)) {
              const limit = glorotLimit(shape);
              const n = v.length;
              let s = 0;
              let s2 = 0;
              for (const x of v) {
                assert.ok(Math.abs(x) <= limit, `${m.name} ${w.name} within the limit`);
                s += x;
                s2 += x * x;
              }
              const mean = s / n;
              const variance = s2 / n - mean * mean;
              // U(-L, L): mean 0 (sd L/sqrt(3n)), variance L^2/3 (relative sd sqrt(0.8/n)); 6 sigma.
              assert.ok(Math.abs(mean) < (6 * limit) / Math.sqrt(3 * n), `${m.name} ${w.name} mean ${mean}`);
              const rel = variance / (limit * limit / 3) - 1;
              assert.ok(Math.abs(rel) < 6 * Math.sqrt(0.8 / n), `${m.name} ${w.name} variance off by ${rel}`);
            } else if (isBias(w.name) || /beta|moving_mean/.test(w.name)) {
              assert.ok(v.every((x) => x === 0), `${m.name} ${w.name} zero`);
            } else if (/gamma|moving_variance/.test(w.name)) {
              assert.ok(v.every((x) => x === 1), `${m.name} ${w.name} one`);
            } else {
              assert.fail(`unexpected weight ${w.name}`);
            }
          }
        });
      }
    });

    it('the same seed gives the same weights, another seed different kernels', () => {
      for (const m of MODELS) {
        const a = withBuilt(m.name, 42, values);
        const b = withBuilt(m.name, 42, values);
        const c = withBuilt(m.name, 43, values);
        assert.equal(a.length, b.length);
        a.forEach((w, i) => assert.deepEqual(w, b[i], `${m.name} weight ${i}`));
        const names = withBuilt(m.name, 43, (x) => modelWeights(x).map((w) => w.name));
        a.forEach((w, i) => {
          if (isKernel(names[i]!)) assert.notDeepEqual(w, c[i], `${m.name} ${names[i]} differs across seeds`);
        });
      }
    });

    it('layers of one model get different kernel seeds', () =>
      withBuilt('mcnn', 5, (b) => {
        // conv3 (3x3x32x64) and conv4 (3x3x64x64) differ in shape; compare their first 500 values.
        const ks = modelWeights(b).filter((w) => isKernel(w.name));
        const firsts = ks.map((k) => Array.from(k.read().dataSync().slice(0, 500)).map((x) => x / glorotLimit(k.shape as number[])));
        for (let i = 0; i < firsts.length; i++)
          for (let j = i + 1; j < firsts.length; j++) assert.notDeepEqual(firsts[i], firsts[j]);
      }));

    it('disposes all variables, and a second dispose is harmless', () => {
      const b = def('vae2').build(1);
      assert.ok(tf.memory().numTensors > start);
      disposeModel(b);
      disposeModel(b);
    });
  });

  describe('SeededDropout', () => {
    const ones = () => tf.ones([100, 100]);
    const train = (layer: tf.layers.Layer, x: tf.Tensor, dropout?: DropoutScope) =>
      layer.apply(x, dropout === undefined ? { training: true } : { training: true, dropout }) as tf.Tensor;
    const maskOf = (layer: tf.layers.Layer, seed: number): Float32Array =>
      tf.tidy(() => train(layer, ones(), dropoutScope(seed)).dataSync() as Float32Array);

    it('draws the same mask for the same step seed and a new one for another', () => {
      const l = seededDropout({ rate: 0.3, index: 0 });
      assert.deepEqual(maskOf(l, 1), maskOf(l, 1));
      assert.notDeepEqual(maskOf(l, 1), maskOf(l, 2));
    });

    it('draws different masks for different layers and for repeated calls in one step', () => {
      const l0 = seededDropout({ rate: 0.3, index: 0 });
      const l1 = seededDropout({ rate: 0.3, index: 1 });
      tf.tidy(() => {
        const scope = dropoutScope(9);
        const [a, b, c] = [train(l0, ones(), scope), train(l1, ones(), scope), train(l0, ones(), scope)];
        assert.notDeepEqual(a!.dataSync(), b!.dataSync());
        assert.notDeepEqual(a!.dataSync(), c!.dataSync());
      });
    });

    it('takes its scope as a value: two steps interleaved draw what each draws alone', () => {
      const l = seededDropout({ rate: 0.3, index: 0 });
      tf.tidy(() => {
        const alone = [1, 1].map((_, k) => {
          const s = dropoutScope(5);
          return [train(l, ones(), s), train(l, ones(), s)][k]!.dataSync();
        });
        const a = dropoutScope(5);
        const b = dropoutScope(6);
        const interleaved = [train(l, ones(), a), train(l, ones(), b), train(l, ones(), a)];
        assert.deepEqual(interleaved[0]!.dataSync(), alone[0]);
        assert.deepEqual(interleaved[2]!.dataSync(), alone[1], "step a's second call is its own, whatever step b did between");
        assert.deepEqual(interleaved[1]!.dataSync(), maskOf(l, 6));
      });
    });

    it('falls back to random masks without a scope', () => {
      const l = seededDropout({ rate: 0.5, index: 0 });
      tf.tidy(() => assert.notDeepEqual(train(l, ones()).dataSync(), train(l, ones()).dataSync()));
    });

    it('keeps units scaled by 1/(1-rate) and drops a fraction near rate', () => {
      for (const rate of [0.25, 0.5]) {
        const m = maskOf(seededDropout({ rate, index: 0 }), 77);
        const dropped = m.filter((v) => v === 0).length / m.length;
        // Binomial(10000, rate): sd sqrt(rate(1-rate)/n); 6 sigma.
        assert.ok(Math.abs(dropped - rate) < 6 * Math.sqrt((rate * (1 - rate)) / m.length), `dropped ${dropped}`);
        const kept = m.filter((v) => v !== 0);
        assert.ok(kept.every((v) => Math.abs(v - 1 / (1 - rate)) < 1e-6));
      }
    });

    it('is the identity in inference and without a training flag', () => {
      const l = seededDropout({ rate: 0.5, index: 0 });
      tf.tidy(() => {
        const x = tf.randomNormal([20, 30], 0, 1, 'float32', 3);
        assert.deepEqual((l.apply(x, { training: false }) as tf.Tensor).dataSync(), x.dataSync());
        assert.deepEqual((l.apply(x) as tf.Tensor).dataSync(), x.dataSync());
      });
    });

    it('passes gradients through the kept units only, scaled', () => {
      const l = seededDropout({ rate: 0.5, index: 0 });
      tf.tidy(() => {
        const x = tf.randomNormal([50, 20], 0, 1, 'float32', 3);
        const scope = dropoutScope(4);
        const y = train(l, x, scope);
        const g = tf.grad((v: tf.Tensor) => train(l, v, scope).sum())(x);
        // Second call in the scope has its own mask: recompute it with the same (seed, call) sequence.
        const again = dropoutScope(4);
        train(l, x, again);
        const mask2 = train(l, tf.onesLike(x), again);
        assert.deepEqual(g!.dataSync(), mask2.dataSync());
        assert.equal(y!.shape.join(), '50,20');
      });
    });

    it('gives MCNN reproducible training-mode outputs under a step seed', () =>
      withBuilt('mcnn', 1, (b) => {
        if (b.kind !== 'classifier') return assert.fail('mcnn is a classifier');
        tf.tidy(() => {
          const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 8);
          const run = (s: number) => (b.net.apply(x, { training: true, dropout: dropoutScope(s) }) as tf.Tensor).dataSync();
          assert.deepEqual(run(3), run(3));
          assert.notDeepEqual(run(3), run(4));
        });
      }));

    it('serialises through the TF.js class registry', () => {
      const net = tf.sequential();
      try {
        net.add(tf.layers.dense({ units: 4, inputShape: [3] }));
        net.add(new SeededDropout({ rate: 0.4, index: 2, name: 'drop' }));
        type Json = { config: { layers: { class_name: string; config: { rate?: number; index?: number } }[] } };
        const json = net.toJSON(undefined, false) as unknown as Json;
        const layer = json.config.layers.find((x) => x.class_name === 'SeededDropout');
        assert.equal(layer?.config.rate, 0.4);
        assert.equal(layer?.config.index, 2);
        const entry = tf.serialization.SerializationMap.getMap().classNameMap['SeededDropout'];
        assert.ok(entry !== undefined, 'registered under its class name');
        const [cls, fromConfig] = entry;
        // By its class name, not instanceof: another copy of the library loaded in the same process (a
        // docs program, the built package) registers its own SeededDropout class under the same name.
        const copy = fromConfig(cls, { rate: 0.4, index: 2, name: 'd2' }) as unknown as SeededDropout;
        assert.equal(copy.getClassName(), 'SeededDropout', 'the registry builds a SeededDropout');
        assert.equal(copy.rate, 0.4);
        assert.equal(copy.index, 2);
      } finally {
        net.dispose();
      }
    });

    it('refuses a rate outside [0, 1) with InvalidConfig', () => {
      for (const rate of [1, -0.1, Number.NaN]) {
        assert.throws(
          () => seededDropout({ rate, index: 0 }),
          (e: unknown) => (e as { _tag?: string })._tag === 'InvalidConfig',
        );
      }
    });
  });

  describe('mixSeed', () => {
    it('is deterministic and separates nearby inputs', () => {
      assert.equal(mixSeed(1, 2, 3), mixSeed(1, 2, 3));
      const seen = new Set<number>();
      for (let a = 0; a < 20; a++) for (let b = 0; b < 20; b++) seen.add(mixSeed(a, b));
      assert.equal(seen.size, 400);
      assert.notEqual(mixSeed(1, 2), mixSeed(2, 1));
      assert.notEqual(mixSeed(2 ** 40), mixSeed(0));
      assert.ok(Number.isInteger(mixSeed(-5)) && mixSeed(-5) >= 0 && mixSeed(-5) < 2 ** 32);
    });
  });
});
