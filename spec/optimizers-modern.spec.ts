/**
 * The optimizers beyond the study's seven (issue 29): each rule against an independent float64 reference
 * of its paper's algorithm box (spec/support/modern-refs.ts) on the fixed gradient sequence of
 * spec/optimizers.spec.ts, within 1e-4 of each weight's movement over 100 steps; Muon's matrices against
 * the reference in PyTorch's layout; Schedule-Free's evaluation point; presets; state round trips; and a
 * short real training on the fixture data for each.
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { lastValueFrom, toArray } from 'rxjs';
import { loadDataset } from '../lib/data/load.js';
import type { Dataset } from '../lib/data/types.js';
import type { OptbenchError } from '../lib/errors.js';
import { conv2d, dense, type ModelDef } from '../lib/models/index.js';
import { createRuntime, type Runtime } from '../lib/train/runtime.js';
import {
  MODERN_OPTIMIZER_NAMES,
  MuonOptimizer,
  PRESET_NAMES,
  ScheduleFreeAdamwOptimizer,
  createOptimizer,
  hasEvaluationPoint,
  listOptimizers,
  parseOptimizerList,
  resolveOptimizer,
  type ParamValue,
} from '../lib/optimizers/index.js';
import { muonView } from '../lib/optimizers/muon.js';
import { runFit } from '../lib/train/fit.js';
import type { EpochEnded, RunEvent } from '../lib/train/events.js';
import { modernRefs, muonStep64, scheduleFree, torchIndex, torchShape, type TorchTensor } from './support/modern-refs.js';
import { SIZE, STEPS, onCpu, trajectoryOf, worstRatios } from './support/trajectories.js';

const right = <A>(e: E.Either<OptbenchError, A>): A => {
  if (E.isLeft(e)) assert.fail(`expected Right, got ${e.left._tag}: ${e.left.message}`);
  return e.right;
};
const left = <A>(e: E.Either<OptbenchError, A>): OptbenchError => {
  if (E.isRight(e)) assert.fail('expected a Left');
  return e.left;
};
type P = Record<string, ParamValue>;

describe('modern optimizers: update rules against float64 references of their papers', () => {
  onCpu();
  const cases: Array<[string, string, P]> = [
    ...MODERN_OPTIMIZER_NAMES.map((name) => ['modern', name, {}] as [string, string, P]),
    ['modern', 'adamw', { weightDecay: 0.5, lr: 0.01 }],
    ['modern', 'radam', { weightDecay: 0.3, beta2: 0.99 }],
    ['modern', 'lion', { weightDecay: 2, lr: 0.01 }],
    ['modern', 'adabelief', { rectify: false }],
    ['modern', 'adabelief', { weightDecay: 0.5, eps: 1e-8, beta2: 0.99 }],
    ['paper', 'adamw-schedulefree', {}],
    ['modern', 'adamw-schedulefree', { weightDecay: 0.5, r: 1, weightLrPower: 1, beta1: 0.5 }],
    ['modern', 'muon', { weightDecay: 0.5, beta2: 0.999 }],
  ];
  const refRule = (preset: string, name: string) => (name === 'adamw-schedulefree' && preset === 'paper' ? `${name}/paper` : name);
  for (const [preset, name, overrides] of cases) {
    it(`${preset} ${name} ${JSON.stringify(overrides)} follows its paper within 1e-4 of each weight's movement`, () => {
      const { params } = right(resolveOptimizer({ name, preset, overrides }));
      const lr = params.lr as number;
      const ref = trajectoryOf(modernRefs[refRule(preset, name)]!(params, SIZE, () => lr));
      for (let i = 0; i < SIZE; i++) assert.ok(ref[STEPS - 1]![i] !== 0, `weight ${i} must move`);
      const worst = worstRatios(right(createOptimizer(name, { preset, ...overrides })), ref);
      worst.forEach((r, i) => assert.ok(r <= 1, `weight ${i}: error ${r.toFixed(3)} x the bound`));
    });
  }

  // The bound tells the variants apart, so the tests above could fail: the paper's Schedule-Free is not the
  // reference's, RAdam rectified from the first step is not RAdam, AdaBelief without rectify is not with it.
  const differ: Array<[string, P, string, P]> = [
    ['adamw-schedulefree', {}, 'adamw-schedulefree/paper', {}],
    ['adabelief', {}, 'adabelief', { rectify: false }],
    ['adamw', { weightDecay: 0.1 }, 'adamw', { weightDecay: 0 }],
  ];
  for (const [name, overrides, otherRule, otherOverrides] of differ)
    it(`${name} ${JSON.stringify(overrides)} fails the bound of ${otherRule} ${JSON.stringify(otherOverrides)}`, () => {
      const other = right(resolveOptimizer({ name, preset: 'modern', overrides: otherOverrides })).params;
      const worst = worstRatios(right(createOptimizer(name, { preset: 'modern', ...overrides })), trajectoryOf(modernRefs[otherRule]!(other, SIZE, () => other.lr as number)));
      assert.ok(Math.max(...worst) > 10, `came within ${Math.max(...worst)} x the bound`);
    });

  it('RAdam takes the momentum step while rho_t <= 5 and the rectified one after (rho_t crosses 5 at step 6 for beta2 0.999)', () => {
    const opt = right(createOptimizer('radam', { preset: 'modern' }));
    const w = tf.variable(tf.zeros([1]));
    const lr = 1e-3;
    const moves: number[] = [];
    for (let t = 1; t <= 7; t++) {
      const before = w.dataSync()[0]!;
      tf.tidy(() => opt.applyGradients({ [w.name]: tf.tensor1d([1]) }));
      moves.push(before - w.dataSync()[0]!);
    }
    // A constant gradient 1: m^ = 1, so the momentum step is exactly lr; the rectified one is lr * r_t * sqrt(1-b2^t)/(sqrt(v)+eps) = lr * r_t (v^ = 1).
    for (let t = 1; t <= 5; t++) assert.ok(Math.abs(moves[t - 1]! - lr) < 1e-9, `step ${t} moved ${moves[t - 1]}`);
    assert.ok(moves[5]! < lr * 0.2 && moves[5]! > 0, `step 6 is rectified (r_6 is small): ${moves[5]}`);
    opt.dispose();
    w.dispose();
  });
});

describe('Muon on matrices: the reference in PyTorch\'s layout', () => {
  onCpu();
  // A Dense kernel taller in PyTorch than wide (scale sqrt(5/3)), one wider, a square conv kernel (scale 1)
  // and a 3x1 one (the reference's kh/kw scale: sqrt(3)).
  const shapes = [[3, 5], [6, 2], [3, 3, 2, 4], [3, 1, 2, 2]];
  const gradAt = (shape: number[], k: number, j: number): number[] => {
    const size = shape.reduce((a, b) => a * b, 1);
    let seed = 7919 * (k + 1) + 104729 * (j + 1);
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    return Array.from({ length: size }, (_, i) => Math.sin(0.3 * i + 0.1 * k + j) + 0.5 * rand());
  };

  it('views and scales each kernel as muon.py does the same weight in PyTorch', () => {
    assert.deepEqual(muonView([3, 5]), { rows: 3, cols: 5, scale: Math.sqrt(5 / 3) });
    assert.deepEqual(muonView([6, 2]), { rows: 6, cols: 2, scale: 1 });
    assert.deepEqual(muonView([3, 3, 2, 4]), { rows: 18, cols: 4, scale: 1 });
    assert.deepEqual(muonView([3, 1, 2, 2]), { rows: 6, cols: 2, scale: Math.sqrt(3) });
  });

  /** Worst error over 100 steps per kernel, as a multiple of 1e-4 of its movement (Frobenius norms). */
  const muonRatios = (overrides: P, refOverrides: P = {}): number[] => {
    const { params } = right(resolveOptimizer({ name: 'muon', preset: 'modern', overrides }));
    const refParams = { ...params, ...refOverrides };
    const lr = params.lr as number;
    const opt = right(createOptimizer('muon', { preset: 'modern', ...overrides }));
    const init = shapes.map((s, j) => gradAt(s, 1000, j).map((x) => 0.1 * x));
    const vars = shapes.map((s, j) => tf.variable(tf.tensor(init[j]!, s)));
    // The reference holds each weight in PyTorch's layout.
    const toTorch = (s: number[], flat: readonly number[]): number[] => {
      const out = new Array<number>(flat.length);
      flat.forEach((x, i) => (out[torchIndex(s, i)] = x));
      return out;
    };
    const ref: TorchTensor[] = shapes.map((s, j) => ({ shape: torchShape(s), data: toTorch(s, init[j]!) }));
    const bufs = shapes.map((s) => new Array<number>(s.reduce((x, y) => x * y, 1)).fill(0));
    const start = ref.map((w) => [...w.data]);
    const errors: number[][] = shapes.map(() => []);
    for (let k = 0; k < STEPS; k++) {
      const gs = shapes.map((s, j) => gradAt(s, k, j));
      tf.tidy(() => opt.applyGradients(Object.fromEntries(vars.map((v, j) => [v.name, tf.tensor(gs[j]!, shapes[j])]))));
      shapes.forEach((s, j) => {
        muonStep64(ref[j]!, bufs[j]!, toTorch(s, gs[j]!), refParams, lr);
        const got = toTorch(s, Array.from(vars[j]!.dataSync()));
        errors[j]!.push(Math.hypot(...got.map((x, i) => x - ref[j]!.data[i]!)));
      });
    }
    opt.dispose();
    tf.dispose(vars);
    return shapes.map((s, j) => {
      const moved = Math.hypot(...ref[j]!.data.map((x, i) => x - start[j]![i]!));
      assert.ok(moved > 10 * lr, `kernel [${s.join(', ')}] moved ${moved}`);
      return Math.max(...errors[j]!) / (1e-4 * moved);
    });
  };

  for (const overrides of [{}, { nesterov: false, weightDecay: 0.5, nsSteps: 3 }] as P[])
    it(`${JSON.stringify(overrides)}: 100 steps within 1e-4 of each kernel's movement (Frobenius norms)`, () => {
      muonRatios(overrides).forEach((r, j) => assert.ok(r <= 1, `kernel [${shapes[j]!.join(', ')}]: ${r.toFixed(3)} x the bound`));
    });

  it('the bound tells an orthogonalised update from a merely normalised one (0 Newton-Schulz steps)', () => {
    muonRatios({}, { nsSteps: 0 }).forEach((r, j) => assert.ok(r > 10, `kernel [${shapes[j]!.join(', ')}]: only ${r.toFixed(3)} x the bound`));
  });

  it('keeps a scalar placeholder for v of a matrix and a full v for a bias, and restores both', async () => {
    const opt = right(createOptimizer('muon', { preset: 'modern' })) as MuonOptimizer;
    const k = tf.variable(tf.ones([4, 3]));
    const b = tf.variable(tf.ones([3]));
    tf.tidy(() => opt.applyGradients({ [k.name]: tf.fill([4, 3], 0.5), [b.name]: tf.fill([3], 0.25) }));
    const state = await opt.getWeights();
    assert.deepEqual(state.map((s) => s.tensor.shape), [[], [4, 3], [3], [], [3]]);
    opt.dispose();
    tf.dispose([k, b]);
  });
});

describe('Schedule-Free AdamW: evaluation at x', () => {
  onCpu();
  // A noisy quadratic: f(theta) = 1/2 sum a_i (theta_i - b_i)^2, its gradient at y plus a fixed noise.
  const a = [1, 4, 0.5, 2];
  const b = [1, -2, 3, 0.5];
  const noise = (k: number, i: number) => 0.8 * Math.sin(1.7 * k + 2.3 * i) * Math.cos(0.37 * k * (i + 1));
  const f = (th: readonly number[]) => th.reduce((s, x, i) => s + 0.5 * a[i]! * (x - b[i]!) ** 2, 0);
  const gradient = (th: readonly number[], k: number) => th.map((x, i) => a[i]! * (x - b[i]!) + noise(k, i));
  const STEPS_SF = 60;
  const overrides = { lr: 0.05 };

  const train = (opt: ScheduleFreeAdamwOptimizer, v: tf.Variable, from: number, to: number) => {
    for (let k = from; k < to; k++) {
      const g = gradient(Array.from(v.dataSync()), k);
      tf.tidy(() => opt.applyGradients({ [v.name]: tf.tensor1d(g) }));
    }
  };
  const reference = () => {
    const { params } = right(resolveOptimizer({ name: 'adamw-schedulefree', preset: 'modern', overrides }));
    const sf = scheduleFree(params, a.length, () => params.lr as number, false);
    const y = new Array<number>(a.length).fill(0);
    for (let k = 0; k < STEPS_SF; k++) sf.step(y, gradient(y, k), k + 1);
    return { x: sf.x(), y };
  };

  it('evalPoint puts x in the variables: the loss there is the float64 reference\'s loss at x, not at y', () => {
    const opt = right(createOptimizer('adamw-schedulefree', { preset: 'modern', ...overrides }));
    assert.ok(opt instanceof ScheduleFreeAdamwOptimizer && hasEvaluationPoint(opt));
    const v = tf.variable(tf.zeros([a.length]));
    train(opt, v, 0, STEPS_SF);
    const ref = reference();
    const [fx, fy] = [f(ref.x), f(ref.y)];
    const tol = 1e-4 * Math.abs(fy - fx);
    // The two points are far enough apart that evaluating at y would fail the check at x.
    assert.ok(Math.abs(fy - fx) > 1e-3, `x and y must differ: f(x) ${fx}, f(y) ${fy}`);
    const yBefore = v.dataSync().slice();
    assert.ok(Math.abs(f(Array.from(yBefore)) - fy) <= tol, `training point: ${f(Array.from(yBefore))} vs f(y) ${fy}`);
    right(opt.evalPoint([v]));
    assert.ok(opt.atEvalPoint);
    const atX = f(Array.from(v.dataSync()));
    assert.ok(Math.abs(atX - fx) <= tol, `evaluation point: ${atX} vs f(x) ${fx} (f(y) ${fy})`);
    opt.trainPoint();
    assert.ok(!opt.atEvalPoint);
    assert.deepEqual(v.dataSync(), yBefore, 'trainPoint gives y back bit for bit');
    opt.dispose();
    v.dispose();
  });

  it('evaluating between steps leaves the trajectory bit-identical, and withEvalPoint swaps back after fn', () => {
    const run = (evaluateEvery: number) => {
      const opt = right(createOptimizer('adamw-schedulefree', { preset: 'modern', ...overrides })) as ScheduleFreeAdamwOptimizer;
      const v = tf.variable(tf.zeros([a.length]));
      for (let k = 0; k < 30; k++) {
        train(opt, v, k, k + 1);
        if (evaluateEvery > 0 && k % evaluateEvery === 0) right(opt.withEvalPoint([v], () => f(Array.from(v.dataSync()))));
      }
      const out = v.dataSync().slice();
      opt.dispose();
      v.dispose();
      return out;
    };
    assert.deepEqual(run(3), run(0));
  });

  it('refuses a step, a checkpoint or a restore at the evaluation point, and a variable list that does not match', async () => {
    const opt = right(createOptimizer('adamw-schedulefree', { preset: 'modern' })) as ScheduleFreeAdamwOptimizer;
    const v = tf.variable(tf.zeros([a.length]));
    const other = tf.variable(tf.zeros([2]));
    train(opt, v, 0, 3);
    assert.match(left(opt.evalPoint([v, other])).message, /got 2 variables but the optimizer holds state for 1/);
    assert.match(left(opt.evalPoint([other])).message, /shape \[2\] but its state \[4\]/);
    right(opt.evalPoint([v]));
    right(opt.evalPoint([v])); // idempotent, as the reference's eval()
    assert.throws(() => train(opt, v, 3, 4), (e: OptbenchError) => e._tag === 'InvalidConfig' && /trainPoint\(\)/.test(e.message));
    await assert.rejects(opt.getWeights(), (e: OptbenchError) => /before a checkpoint/.test(e.message));
    opt.trainPoint();
    opt.trainPoint();
    train(opt, v, 3, 4);
    assert.equal(opt.iterations, 4);
    opt.dispose();
    tf.dispose([v, other]);
  });

  it('getWeights/setWeights round-trip z, v, x and the step with a warm-up: resumed = uninterrupted, bit for bit', async () => {
    const make = () =>
      right(createOptimizer('adamw-schedulefree', { preset: 'modern', ...overrides }, { schedule: { kind: 'constant', warmupSteps: 10 } })) as ScheduleFreeAdamwOptimizer;
    const straight = make();
    const a1 = tf.variable(tf.zeros([a.length]));
    train(straight, a1, 0, 25);
    const first = make();
    const b1 = tf.variable(tf.zeros([a.length]));
    train(first, b1, 0, 7);
    const saved = (await first.getWeights()).map((w) => ({ name: w.name, data: w.tensor.dataSync().slice(), shape: w.tensor.shape }));
    assert.deepEqual(saved.map((s) => s.name.split('/').pop()), ['iter', 'z', 'v', 'x']);
    const y = b1.dataSync().slice();
    first.dispose();
    const resumed = make();
    const c1 = tf.variable(tf.tensor1d(y));
    const restored = saved.map((s) => ({ name: s.name, tensor: tf.tensor(s.data, s.shape) }));
    await resumed.setWeights(restored);
    tf.dispose(restored.map((r) => r.tensor));
    train(resumed, c1, 7, 25);
    assert.deepEqual(c1.dataSync(), a1.dataSync());
    // And the evaluation point of both is the same x.
    right(resumed.evalPoint([c1]));
    right(straight.evalPoint([a1]));
    assert.deepEqual(c1.dataSync(), a1.dataSync());
    resumed.trainPoint();
    straight.trainPoint();
    tf.dispose([a1, b1, c1]);
    resumed.dispose();
    straight.dispose();
  });
});

describe('modern optimizers: presets, listing, names', () => {
  onCpu();
  const get = (preset: string, name: string) => right(resolveOptimizer({ name, preset })).params;

  it('have their reference implementations\' defaults', () => {
    assert.deepEqual(get('modern', 'adamw'), { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2 });
    assert.deepEqual(get('modern', 'radam'), { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    assert.deepEqual(get('modern', 'lion'), { lr: 1e-4, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
    assert.deepEqual(get('modern', 'adabelief'), { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-16, weightDecay: 0, rectify: true });
    assert.deepEqual(get('modern', 'adamw-schedulefree'), { lr: 0.0025, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, r: 0, weightLrPower: 2 });
    assert.deepEqual(get('modern', 'muon'), {
      lr: 0.02,
      momentum: 0.95,
      nesterov: true,
      nsSteps: 5,
      weightDecay: 0,
      adamLr: 3e-4,
      beta1: 0.9,
      beta2: 0.95,
      eps: 1e-10,
    });
  });

  it('take the same values under every preset, with a source that says so where the library has no such optimizer', () => {
    const rows = listOptimizers();
    for (const name of MODERN_OPTIMIZER_NAMES) {
      const mine = rows.filter((r) => r.name === name);
      assert.deepEqual(mine.map((r) => r.preset), [...PRESET_NAMES]);
      for (const r of mine) {
        assert.deepEqual(r.defaults, get('modern', name), `${r.preset} ${name}`);
        for (const s of Object.values(r.sources)) assert.ok(s.length > 20, `${r.preset} ${name}: '${s}'`);
      }
    }
    const lion = (preset: string) => rows.find((r) => r.preset === preset && r.name === 'lion')!.sources.lr!;
    assert.match(lion('modern'), /lucidrains\/lion-pytorch/);
    assert.doesNotMatch(lion('modern'), /every preset/);
    assert.match(lion('tfkeras2'), /tf\.keras 2\.2 has no Lion: the reference's value under every preset/);
    assert.match(rows.find((r) => r.preset === 'torch' && r.name === 'adamw')!.sources.lr!, /^torch\.optim\.AdamW default \(PyTorch 2\.x\)$/);
    assert.equal(rows.find((r) => r.preset === 'paper' && r.name === 'adamw-schedulefree')!.rule, 'adamw-schedulefree/paper');
    assert.match(rows.find((r) => r.preset === 'modern' && r.name === 'adabelief')!.sources.rectify!, /adabelief-pytorch 0\.2\.0.*rectify=True/);
  });

  it('are built-in names: --optimizers reads them and the groups modern and study', () => {
    assert.deepEqual(right(parseOptimizerList('modern')).map((o) => o.name), [...MODERN_OPTIMIZER_NAMES]);
    assert.deepEqual(right(parseOptimizerList('study')).map((o) => o.name), ['sgd', 'rmsprop', 'adagrad', 'adadelta', 'adam', 'adamax', 'nadam']);
    assert.deepEqual(right(parseOptimizerList('muon:ns_steps=3,weight_decay=0.1,lion')), [
      { name: 'muon', overrides: { nsSteps: 3, weightDecay: 0.1 } },
      { name: 'lion', overrides: {} },
    ]);
    assert.equal(right(parseOptimizerList('all')).length, 13);
  });

  it('check their hyperparameters\' ranges', () => {
    assert.match(left(createOptimizer('muon', { nsSteps: 2.5 })).message, /nsSteps must be a whole number >= 1/);
    assert.match(left(createOptimizer('muon', { nsSteps: 0 })).message, /nsSteps must be a whole number >= 1/);
    assert.match(left(createOptimizer('adamw', { weightDecay: -1 })).message, /weightDecay must be a finite number >= 0/);
    assert.match(left(createOptimizer('adabelief', { rectify: 2 })).message, /rectify must be true or false/);
    assert.equal(right(resolveOptimizer({ name: 'adamw', overrides: { weight_decay: 0.1 } })).params.weightDecay, 0.1);
  });
});

describe('modern optimizers: state and memory', () => {
  onCpu();
  const shapes = [[3, 2], [4], [2, 2, 1, 3]];
  const gradsAt = (k: number) =>
    shapes.map((s, j) => tf.tensor(Array.from({ length: s.reduce((a, b) => a * b) }, (_, i) => Math.sin(k * 7 + i * 3 + j) + 0.1), s));
  const train = (opt: tf.Optimizer, vars: tf.Variable[], from: number, to: number) => {
    for (let k = from; k < to; k++) {
      const gs = gradsAt(k);
      opt.applyGradients(Object.fromEntries(vars.map((v, j) => [v.name, gs[j]!])));
      tf.dispose(gs);
    }
  };
  const freshVars = (values?: Float32Array[]) => shapes.map((s, j) => tf.tidy(() => tf.variable(values ? tf.tensor(values[j]!, s) : tf.fill(s, 0.5 - j))));
  const variants: Array<[string, P]> = [
    ...MODERN_OPTIMIZER_NAMES.map((name) => [name, {}] as [string, P]),
    ['adamw', { weightDecay: 0.1 }],
    ['adabelief', { rectify: false }],
    ['muon', { nesterov: false, weightDecay: 0.1 }],
  ];
  for (const [name, overrides] of variants) {
    it(`${name} ${JSON.stringify(overrides)}: save after 7 steps (rectification and warm-up straddled), resume = uninterrupted, bit for bit; no leaks`, async () => {
      // Schedule-Free takes a warm-up only; the others a cosine decay after theirs.
      const kind = name === 'adamw-schedulefree' ? 'constant' : 'cosine';
      const make = () => right(createOptimizer(name, { preset: 'modern', ...overrides }, { schedule: { kind, warmupSteps: 3 }, epochs: 4, stepsPerEpoch: 5 }));
      const straight = make();
      const a = freshVars();
      train(straight, a, 0, 20);
      const first = make();
      const b = freshVars();
      train(first, b, 0, 7);
      const saved = (await first.getWeights()).map((w) => ({ name: w.name, shape: w.tensor.shape, dtype: w.tensor.dtype, data: w.tensor.dataSync().slice() }));
      const model = b.map((v) => (v.dataSync() as Float32Array).slice());
      first.dispose();
      tf.dispose(b);
      const resumed = make();
      const c = freshVars(model);
      const restored = saved.map((s) => ({ name: s.name, tensor: tf.tensor(s.data, s.shape, s.dtype) }));
      await resumed.setWeights(restored);
      tf.dispose(restored.map((r) => r.tensor));
      const before = tf.memory().numTensors;
      train(resumed, c, 7, 20);
      assert.equal(tf.memory().numTensors, before, 'no tensor leaks per step');
      c.forEach((v, j) => assert.deepEqual(v.dataSync(), a[j]!.dataSync()));
      resumed.dispose();
      straight.dispose();
      tf.dispose([...a, ...c]);
    });
  }
});

/** A small CNN, so that Muon meets a convolution kernel, a Dense kernel and biases in real training. */
const tinyCnn: ModelDef = {
  name: 'modern-tiny-cnn',
  kind: 'classifier',
  description: 'Conv 3x3x4 stride 2 relu, Dense 10',
  inputShape: [28, 28, 1],
  build: (seed) => {
    const net = tf.sequential({ name: 'modern-tiny-cnn' });
    net.add(conv2d(seed, 0, { filters: 4, kernel: 3, strides: 2, padding: 'valid', activation: 'relu', name: 'conv', inputShape: [28, 28, 1] }));
    net.add(tf.layers.flatten({ name: 'flatten' }));
    net.add(dense(seed, 1, { units: 10, activation: 'linear', name: 'logits' }));
    return { kind: 'classifier', net };
  },
};

describe('modern optimizers: a short real training on the fixture data', function () {
  let data: Dataset;
  let runtime: Runtime;
  before(async () => {
    await tf.setBackend('cpu');
    const loaded = await loadDataset({ dir: 'fixtures/fashion-mini', dataset: 'fashion-mini' });
    data = right(loaded);
    runtime = right(createRuntime({ models: [tinyCnn] }));
  });

  const runs: Array<[string, P]> = [
    ...MODERN_OPTIMIZER_NAMES.map((name) => [name, {}] as [string, P]),
    ['sgd', {}],
    ['lion', { lr: 1e-3 }],
  ];
  for (const [name, overrides] of runs)
    it(`${name} ${JSON.stringify(overrides)} (modern preset) trains ${tinyCnn.name}: the loss falls, no tensor leaks`, async () => {
      const tensors = tf.memory().numTensors;
      const events: RunEvent[] = await lastValueFrom(
        runFit(
          {
            dataset: data.name,
            model: tinyCnn.name,
            optimizer: { name, preset: 'modern', overrides },
            seed: 0,
            epochs: 4,
            batchSize: 25,
            backend: 'cpu',
            subset: 100,
          },
          data,
          { runtime },
        ).pipe(toArray()),
      );
      const failed = events.find((e) => e.type === 'RunFailed');
      assert.equal(failed, undefined, failed?.type === 'RunFailed' ? failed.error.message : '');
      const epochs = events.filter((e): e is EpochEnded => e.type === 'EpochEnded').map((e) => e.train.loss);
      assert.equal(epochs.length, 4);
      assert.ok(epochs[3]! < epochs[0]!, `train loss ${epochs.map((l) => l.toFixed(4)).join(' -> ')}`);
      assert.equal(tf.memory().numTensors, tensors, 'the run disposed every tensor it made');
    });
});
