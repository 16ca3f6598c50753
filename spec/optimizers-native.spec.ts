import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { useBackend } from '../lib/backend/index.js';
import { fusedAdamax } from '../lib/backend/native-fused.js';
import { createOptimizer } from '../lib/optimizers/index.js';

// On `native`, Adam and Adamax take a fused C++ update instead of composed element-wise ops. The same
// gradients on `cpu` (composed ops) and on `native` (fused) must give the same weights.

const trajectory = async (backend: 'cpu' | 'native', name: string, preset: string): Promise<Float32Array> => {
  assert.ok(E.isRight(await useBackend(backend)), `${backend} loads`);
  const opt = createOptimizer(name, { preset });
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
  for (const [name, preset] of [
    ['adam', 'tfkeras2'],
    ['adam', 'torch'],
    ['adamax', 'tfkeras2'],
    ['adamax', 'torch'],
  ] as const) {
    it(`${name} (${preset}) follows the composed update`, async () => {
      const cpu = await trajectory('cpu', name, preset);
      const native = await trajectory('native', name, preset);
      for (let i = 0; i < cpu.length; i++) {
        assert.ok(Math.abs(cpu[i]! - native[i]!) <= 1e-6 * Math.max(1, Math.abs(cpu[i]!)), `weight ${i}: ${cpu[i]} vs ${native[i]}`);
      }
    });
  }
});
