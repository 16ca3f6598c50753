import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { useBackend } from '../lib/backend/index.js';
import { fusedAdamax, fusedAdamw, fusedLion } from '../lib/backend/native-fused.js';
import type { Schedule } from '../lib/config/schedule.js';
import { createOptimizer } from '../lib/optimizers/index.js';

// On `native`, Adam, Adamax, AdamW and Lion take a fused C++ update instead of composed element-wise ops.
// The same gradients on `cpu` (composed ops) and on `native` (fused) must give the same weights.

const trajectory = async (
  backend: 'cpu' | 'native',
  name: string,
  preset: string,
  overrides: Record<string, number> = {},
  schedule: Schedule | undefined = undefined,
): Promise<Float32Array> => {
  assert.ok(E.isRight(await useBackend(backend)), `${backend} loads`);
  const opt = createOptimizer(name, { preset, ...overrides }, schedule !== undefined ? { schedule, epochs: 3, stepsPerEpoch: 10 } : {});
  assert.ok(E.isRight(opt));
  const theta = tf.variable(tf.linspace(-1, 1, 37));
  for (let t = 0; t < 30; t++) {
    // Gradients of varied scale and sign, tiny ones included, the same on both backends.
    const g = tf.tidy(() => tf.mul(tf.sin(tf.add(tf.mul(tf.range(0, 37), 0.7), t)), Math.pow(10, -(t % 7))));
    opt.right.applyGradients([{ name: theta.name, tensor: g }]);
    g.dispose();
  }
  const out = theta.dataSync() as Float32Array;
  theta.dispose();
  opt.right.dispose();
  return Float32Array.from(out);
};

describe('fused optimizer updates on native', () => {
  after(async () => {
    await useBackend('cpu');
  });
  it('the fused Adamax kernel is live on native (so the comparisons below compare two paths)', async () => {
    assert.ok(E.isRight(await useBackend('native')));
    const one = tf.scalar(0.5);
    const x = tf.ones([3]);
    const f = fusedAdamax(x, x, x, x, { beta1: one, oneMinusBeta1: one, beta2: one, eps: one, step: one }, 'tfkeras');
    assert.ok(f !== undefined, 'fusedAdamax ran in C++');
    tf.dispose([one, x, f!.theta, f!.m, f!.u]);
  });
  it('the fused AdamW and Lion kernels are live on native, and compute their formulas', async () => {
    assert.ok(E.isRight(await useBackend('native')));
    const s = (x: number) => tf.scalar(x);
    const [g, theta, m, v] = [tf.tensor1d([0.5, -2]), tf.tensor1d([1, -1]), tf.tensor1d([0.1, 0.2]), tf.tensor1d([0.04, 1])];
    const c = { beta1: s(0.9), oneMinusBeta1: s(0.1), beta2: s(0.99), oneMinusBeta2: s(0.01), eps: s(1e-3), decay: s(0.5), step: s(0.25), invBc2: s(2) };
    const a = fusedAdamw(g, theta, m, v, c);
    assert.ok(a !== undefined, 'fusedAdamw ran in C++');
    // m' = 0.9 m + 0.1 g; v' = 0.99 v + 0.01 g^2; theta' = 0.5 theta - 0.25 m' / (sqrt(2 v') + 1e-3).
    const m2 = [0.9 * 0.1 + 0.1 * 0.5, 0.9 * 0.2 + 0.1 * -2];
    const v2 = [0.99 * 0.04 + 0.01 * 0.25, 0.99 * 1 + 0.01 * 4];
    const t2 = [0.5 * 1 - (0.25 * m2[0]!) / (Math.sqrt(2 * v2[0]!) + 1e-3), 0.5 * -1 - (0.25 * m2[1]!) / (Math.sqrt(2 * v2[1]!) + 1e-3)];
    Array.from(a!.theta.dataSync()).forEach((x, i) => assert.ok(Math.abs(x - t2[i]!) < 1e-6, `adamw theta ${i}: ${x} vs ${t2[i]}`));
    Array.from(a!.v.dataSync()).forEach((x, i) => assert.ok(Math.abs(x - v2[i]!) < 1e-6, `adamw v ${i}: ${x} vs ${v2[i]}`));
    const l = fusedLion(g, theta, m, { lr: s(0.01), beta1: s(0.9), oneMinusBeta1: s(0.1), beta2: s(0.99), oneMinusBeta2: s(0.01), decay: s(0.5) });
    assert.ok(l !== undefined, 'fusedLion ran in C++');
    // c = 0.9 m + 0.1 g = [0.14, -0.02]: theta' = 0.5 theta - 0.01 sign(c); m' = 0.99 m + 0.01 g.
    assert.deepEqual(Array.from(l!.theta.dataSync()), [0.5 - 0.01, -0.5 + 0.01].map(Math.fround));
    Array.from(l!.m.dataSync()).forEach((x, i) => assert.ok(Math.abs(x - [0.104, 0.178][i]!) < 1e-6, `lion m ${i}: ${x}`));
    tf.dispose([g, theta, m, v, ...Object.values(c), a!.theta, a!.m, a!.v, l!.theta, l!.m]);
  });
  const cases: Array<[string, string, Record<string, number>, Schedule?]> = [
    ['adam', 'tfkeras2', {}],
    ['adam', 'torch', {}],
    ['adamax', 'tfkeras2', {}],
    ['adamax', 'torch', {}],
    ['adamw', 'modern', {}],
    ['adamw', 'modern', { weightDecay: 0.5, lr: 0.01 }, { kind: 'cosine', warmupSteps: 5 }],
    ['adamw', 'modern', { weightDecay: 0 }],
    ['lion', 'modern', {}],
    ['lion', 'modern', { weightDecay: 2, lr: 0.01 }, { kind: 'linear' }],
  ];
  for (const [name, preset, overrides, schedule] of cases) {
    it(`${name} (${preset}${Object.keys(overrides).length > 0 ? ` ${JSON.stringify(overrides)}` : ''}${schedule ? `, ${schedule.kind}` : ''}) follows the composed update`, async () => {
      const cpu = await trajectory('cpu', name, preset, overrides, schedule);
      const native = await trajectory('native', name, preset, overrides, schedule);
      // AdamW's and Lion's kernels repeat the composed ops in order, in float32: the same bits.
      if (name === 'adamw' || name === 'lion') assert.deepEqual(native, cpu);
      for (let i = 0; i < cpu.length; i++) {
        assert.ok(Math.abs(cpu[i]! - native[i]!) <= 1e-6 * Math.max(1, Math.abs(cpu[i]!)), `weight ${i}: ${cpu[i]} vs ${native[i]}`);
      }
    });
  }
});
