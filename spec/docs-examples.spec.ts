/**
 * The code of docs/*.md lives in docs/examples/*.ts; this spec runs each example on the cpu backend with
 * tiny sizes, so that a guide whose code stops working fails CI.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { DEMO_BACKEND, demoCalls, registerDemoBackend } from '../docs/examples/backend.js';
import { miniPlan, runMiniGrid } from '../docs/examples/pipeline.js';
import { FIXTURE, tinyMlp, tinyRuntime, trainTinyMlp } from '../docs/examples/user-model.js';
import { SignumOptimizer, cosineAdamw, lossWhereEvaluated, signum, signumRuntime, trainClassifier } from '../docs/examples/user-optimizer.js';
import { atEvaluationPoint } from '../lib/optimizers/index.js';
import { loadDataset } from '../lib/data/load.js';
import { BUILT_IN_MODELS } from '../lib/models/registry.js';
import type { Dataset } from '../lib/data/types.js';
import { listOptimizers, paramNamesOf } from '../lib/optimizers/listing.js';
import { PRESETS, PRESET_NAMES } from '../lib/optimizers/presets.js';
import { createOptimizer } from '../lib/optimizers/create.js';
import { parseOptimizerArg } from '../lib/optimizers/parse.js';
import { OPTIMIZER_NAMES } from '../lib/optimizers/params.js';
import type { BuiltClassifier } from '../lib/models/types.js';
import { disposeModel, trainableVariables } from '../lib/models/weights.js';
import { classifierForward } from '../lib/train/losses.js';
import type { EpochEnded, RunEvent } from '../lib/train/events.js';

const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) assert.fail(e.left.message);
  return e.right;
};

describe('docs examples', function () {
  let data: Dataset;
  before(async () => {
    await tf.setBackend('cpu');
    data = right(await loadDataset(FIXTURE));
  });
  describe('adding-a-model: tiny-mlp given to a runtime and trained with runFit', function () {
    let events: RunEvent[];
    before(async () => {
      events = right(await trainTinyMlp(data, { epochs: 4, subset: 100, batchSize: 25 }));
    });

    it("is in its runtime's models with its Keras parameter count, and in no other registry", () => {
      const info = right(tinyRuntime()).models.list().find((m) => m.name === 'tiny-mlp');
      assert.ok(E.isLeft(BUILT_IN_MODELS.get('tiny-mlp')), 'the built-in registry is untouched');
      assert.ok(info, 'tiny-mlp is listed');
      assert.equal(info.parameters, 784 * 32 + 32 + 32 * 10 + 10);
    });

    it('runs to RunEnded under the protocol, and its training loss falls', () => {
      const types = events.filter((e) => e.type !== 'BatchEnded').map((e) => e.type);
      assert.deepEqual(types, ['RunStarted', 'EpochEnded', 'EpochEnded', 'EpochEnded', 'EpochEnded', 'RunEnded']);
      const started = events[0]!;
      assert.equal(started.type === 'RunStarted' && started.steps, 4); // 100 images, batch 25
      const epochs = events.filter((e): e is EpochEnded => e.type === 'EpochEnded');
      assert.ok(
        epochs[3]!.train.loss < epochs[0]!.train.loss,
        `train loss ${epochs.map((e) => e.train.loss.toFixed(3)).join(' -> ')}`,
      );
      const ended = events.find((e) => e.type === 'RunEnded');
      assert.ok(ended?.type === 'RunEnded' && ended.confusion !== null);
      // 100 test images: the confusion matrix counts each once.
      assert.equal(ended.confusion.flat().reduce((a, b) => a + b, 0), 100);
    });

    it('is deterministic: the same spec gives the same losses (paired design)', async () => {
      const again = right(await trainTinyMlp(data, { epochs: 4, subset: 100, batchSize: 25 }));
      const losses = (es: RunEvent[]) => es.filter((e): e is EpochEnded => e.type === 'EpochEnded').map((e) => e.train.loss);
      assert.deepEqual(losses(again), losses(events));
    });

    it('an unknown optimizer arrives as RunFailed{UnknownName}, not a throw', async () => {
      const failed = right(await trainTinyMlp(data, { optimizer: { name: 'lamb', preset: 'tfkeras2', overrides: {} } }));
      assert.equal(failed.length, 1);
      const e = failed[0]!;
      assert.ok(e.type === 'RunFailed' && e.error._tag === 'UnknownName');
    });
  });

  describe('adding-an-optimizer: SignumOptimizer', function () {
    it('matches the Signum formula over three steps, computed in float64', () => {
      const cfg = { lr: 0.01, momentum: 0.9, weightDecay: 0.1 };
      const theta0 = [0.5, -1.25, 2, 0.001];
      const grads = [
        [0.3, -0.2, 0, 1e-4],
        [-0.1, -0.4, 0.5, -2e-4],
        [0.25, 0.3, -0.05, 3e-4],
      ];
      // Reference: plain JavaScript numbers.
      const theta = [...theta0];
      const m = theta.map(() => 0);
      for (const g of grads)
        for (let i = 0; i < theta.length; i++) {
          m[i] = cfg.momentum * m[i]! + (1 - cfg.momentum) * g[i]!;
          theta[i] = theta[i]! - cfg.lr * (Math.sign(m[i]!) + cfg.weightDecay * theta[i]!);
        }
      const v = tf.variable(tf.tensor1d(theta0), true, 'docs_signum_theta');
      const opt = new SignumOptimizer(cfg);
      for (const g of grads) tf.tidy(() => opt.applyGradients({ [v.name]: tf.tensor1d(g) }));
      const got = Array.from(v.dataSync());
      got.forEach((x, i) => assert.ok(Math.abs(x - theta[i]!) < 1e-6, `theta[${i}] = ${x}, expected ${theta[i]}`));
      assert.equal(opt.iterations, 3);
      opt.dispose();
      v.dispose();
    });

    it('round-trips its state through getWeights/setWeights (what checkpoints use)', async () => {
      const v = tf.variable(tf.tensor1d([1, 2]), true, 'docs_signum_state');
      const a = new SignumOptimizer({ lr: 0.1, momentum: 0.9, weightDecay: 0 });
      tf.tidy(() => a.applyGradients({ [v.name]: tf.tensor1d([0.5, -0.5]) }));
      const state = await a.getWeights();
      const b = new SignumOptimizer(a.config);
      await b.setWeights(state.map((s) => ({ name: s.name, tensor: s.tensor.clone() })));
      const [, mB] = await b.getWeights();
      assert.deepEqual(Array.from(mB!.tensor.dataSync()), [0.1 * 0.5, 0.1 * -0.5].map(Math.fround));
      assert.equal(b.iterations, 1);
      a.dispose();
      b.dispose();
      v.dispose();
    });

    it('trains the user model without leaking tensors, and its loss falls', async () => {
      const model = tinyMlp.build(1) as BuiltClassifier;
      const opt = new SignumOptimizer({ lr: 1e-3, momentum: 0.9, weightDecay: 0 });
      const train = { ...data.train, count: 100, images: data.train.images.subarray(0, 100 * 784), labels: data.train.labels.subarray(0, 100) };
      const lossOn = () =>
        tf.tidy(() => {
          const x = tf.tensor4d(train.images, [100, 28, 28, 1]);
          const y = tf.tensor1d(train.labels, 'int32');
          return classifierForward(model, x, y, false).loss.dataSync()[0]!;
        });
      const before = lossOn();
      await trainClassifier(model, opt, train, { epochs: 1, batchSize: 20, seed: 0 }); // creates the slots
      const tensors = tf.memory().numTensors;
      const means = await trainClassifier(model, opt, train, { epochs: 3, batchSize: 20, seed: 0 });
      assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks across epochs');
      const after = lossOn();
      assert.ok(after < before, `loss ${before} -> ${after}`);
      assert.ok(means.every(Number.isFinite));
      opt.dispose();
      disposeModel(model);
    });

    it("signumRuntime's optimizers make signum a name createOptimizer, --optimizers and optbench list know", () => {
      const reg = right(signumRuntime()).optimizers;
      const plain = createOptimizer('signum');
      assert.ok(E.isLeft(plain) && plain.left._tag === 'UnknownName', 'only in that registry');
      const opt = right(createOptimizer('signum', { preset: 'paper', lr: 3e-4 }, {}, reg));
      assert.ok(opt instanceof SignumOptimizer);
      assert.deepEqual(opt.config, { lr: 3e-4, momentum: 0.9, weightDecay: 0 });
      opt.dispose();
      assert.deepEqual(right(parseOptimizerArg('signum:weightDecay=0.1', reg)), { name: 'signum', overrides: { weightDecay: 0.1 } });
      const e = createOptimizer('signum', { lr: 0.5, weightDecay: 2 }, {}, reg);
      assert.ok(E.isLeft(e) && /lr \* weightDecay must be below 1/.test(e.left.message));
      const rows = listOptimizers(reg).filter((r) => r.name === 'signum');
      assert.deepEqual(
        rows.map((r) => r.preset),
        [...PRESET_NAMES],
      );
      assert.ok(rows.every((r) => r.defaults.lr === 0.01 && r.sources.lr!.startsWith(signum.sources!.lr!)));
    });
  });

  describe('adding-an-optimizer: schedules and the evaluation point in a loop of one\'s own', function () {
    const train100 = () => ({ ...data.train, count: 100, images: data.train.images.subarray(0, 100 * 784), labels: data.train.labels.subarray(0, 100) });
    const lossOn = (model: BuiltClassifier) => () =>
      tf.tidy(() => {
        const t = train100();
        const x = tf.tensor4d(t.images, [100, 28, 28, 1]);
        const y = tf.tensor1d(t.labels, 'int32');
        return classifierForward(model, x, y, false).loss.dataSync()[0]!;
      });

    it('cosineAdamw warms up over the first epoch and decays over the loop, as the optimizer config says', async () => {
      const model = tinyMlp.build(1) as BuiltClassifier;
      const opt = right(cosineAdamw(train100(), { epochs: 3, batchSize: 20 }));
      // 100 images in batches of 20: 5 steps an epoch, 15 in all, the first 5 warming up.
      assert.deepEqual(opt.getConfig()['schedule'], { kind: 'cosine', warmupSteps: 5, totalSteps: 15, stepEvery: 4, stepGamma: 0.1 });
      const before = lossOn(model)();
      const means = await trainClassifier(model, opt, train100(), { epochs: 3, batchSize: 20, seed: 0 });
      assert.equal(opt.iterations, 15);
      assert.ok(lossOn(model)() < before && means.every(Number.isFinite), `loss ${before} -> ${lossOn(model)()}`);
      opt.dispose();
      disposeModel(model);
    });

    it('atEvaluationPoint evaluates Schedule-Free at x (not at y) and gives y back; other optimizers where they train', async () => {
      const model = tinyMlp.build(1) as BuiltClassifier;
      const variables = trainableVariables(model);
      const opt = right(createOptimizer('adamw-schedulefree', { preset: 'modern', lr: 0.01 }));
      await trainClassifier(model, opt, train100(), { epochs: 2, batchSize: 20, seed: 0 });
      const y = variables.map((v) => v.dataSync().slice());
      const atY = lossOn(model)();
      const atX = right(atEvaluationPoint(opt, variables, lossOn(model)));
      variables.forEach((v, i) => assert.deepEqual(v.dataSync(), y[i], 'y is back, bit for bit'));
      // x read from the optimizer's own state (its slots 'x'), put in by hand.
      const x = (await opt.getWeights()).filter((w) => w.name.endsWith('/x')).map((w) => w.tensor.clone());
      assert.equal(x.length, variables.length);
      const held = variables.map((v) => v.clone());
      variables.forEach((v, i) => v.assign(x[i]!));
      const byHand = lossOn(model)();
      variables.forEach((v, i) => v.assign(held[i]!));
      tf.dispose([...x, ...held]);
      assert.equal(atX, byHand);
      assert.ok(Math.abs(atX - atY) > 1e-4, `x and y give different losses: ${atX} vs ${atY}`);
      // The guide's own measurement gives the loss at x.
      const [xs, ys] = tf.tidy(() => [tf.tensor4d(data.test.images.subarray(0, 50 * 784), [50, 28, 28, 1]), tf.tensor1d(data.test.labels.subarray(0, 50), 'int32')] as const);
      const guide = right(lossWhereEvaluated(opt, model, xs, ys));
      const direct = right(atEvaluationPoint(opt, variables, () => tf.tidy(() => classifierForward(model, xs, ys, false).loss.dataSync()[0]!)));
      tf.dispose([xs, ys]);
      assert.equal(guide, direct);
      const adam = right(createOptimizer('adam'));
      assert.equal(right(atEvaluationPoint(adam, variables, lossOn(model))), atY);
      adam.dispose();
      opt.dispose();
      disposeModel(model);
    });
  });

  describe('adding-a-pipeline: a resumable grid with a report', function () {
    let out: string;
    before(() => {
      out = mkdtempSync(join(tmpdir(), 'optbench-docs-'));
    });
    after(() => rmSync(out, { recursive: true, force: true }));

    const job = () => {
      const lines: string[] = [];
      return {
        lines,
        job: {
          out,
          data: FIXTURE,
          plan: miniPlan,
          runtime: right(tinyRuntime()),
          log: { write: (s: string) => lines.push(s) },
        },
      };
    };

    it('trains every run, writes the run directory, the store and the report', async () => {
      const { job: j, lines } = job();
      const result = right(await runMiniGrid(j));
      const ended = result.events.filter((e) => e.type === 'RunEnded');
      assert.equal(ended.length, 2);
      assert.ok(existsSync(join(out, 'grid.json')));
      assert.ok(existsSync(join(out, 'optbench.sqlite')));
      const runs = readdirSync(join(out, 'runs')).filter((f) => f.endsWith('.json'));
      assert.equal(runs.length, 2);
      for (const f of runs) {
        const rec = JSON.parse(readFileSync(join(out, 'runs', f), 'utf8')) as { status: string; epochs: unknown[] };
        assert.equal(rec.status, 'done');
        assert.equal(rec.epochs.length, 2);
      }
      const table = readFileSync(join(out, 'report', 'table.md'), 'utf8');
      assert.match(table, /tiny-mlp/);
      assert.deepEqual(result.artifacts.map((a) => a.kind).sort(), ['csv', 'md']);
      assert.ok(lines.some((l) => l.includes('run 1/2 tiny-mlp/sgd/s0')), lines.join(''));
    });

    it('run again with the same out, trains nothing twice', async () => {
      const { job: j, lines } = job();
      const result = right(await runMiniGrid(j));
      assert.equal(result.events.filter((e) => e.type === 'RunStarted').length, 0);
      assert.equal(lines.filter((l) => l.includes('finished earlier, skipped')).length, 2);
    });

    it('a missing data directory is a DatasetMissing value, not a throw', async () => {
      const { job: j } = job();
      const result = await runMiniGrid({ ...j, data: { dir: join(out, 'nowhere'), dataset: 'fashion-mini' } });
      assert.ok(E.isLeft(result));
      assert.equal(result.left._tag, 'DatasetMissing');
    });
  });

  describe('adding-a-backend: a replaced kernel against the JavaScript one', function () {
    before(() => registerDemoBackend());
    after(async () => {
      await tf.setBackend('cpu');
    });

    it('computes Square as float32(x*x), in the replacement, and matches the cpu kernel', async () => {
      const xs = [-3.5, -1e-3, 0, 0.1, 1.7, 123.456, -0.333];
      await tf.setBackend('cpu');
      const cpu = tf.tidy(() => tf.square(tf.tensor1d(xs)).dataSync());
      await tf.setBackend(DEMO_BACKEND);
      const ran = demoCalls.ran;
      const demo = tf.tidy(() => tf.square(tf.tensor1d(xs)).dataSync());
      assert.equal(demoCalls.ran, ran + 1, 'the replacement ran');
      assert.deepEqual(Array.from(demo), Array.from(cpu));
      assert.deepEqual(Array.from(demo), xs.map((x) => Math.fround(Math.fround(x) * Math.fround(x))));
    });

    it('declines int32 to the JavaScript kernel, and gradients still flow', async () => {
      await tf.setBackend(DEMO_BACKEND);
      const declined = demoCalls.declined;
      const ints = tf.tidy(() => Array.from(tf.square(tf.tensor1d([2, -3], 'int32')).dataSync()));
      assert.deepEqual(ints, [4, 9]);
      assert.equal(demoCalls.declined, declined + 1);
      const grad = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1.5, -2])).dataSync()));
      assert.deepEqual(grad, [3, -4]);
    });
  });

  describe('the guides quote the code that runs', function () {
    // Quoted blocks are checked, with every other code block, by spec/docs-blocks.spec.ts, and the
    // guides' links by spec/docs-links.spec.ts.

    it("architecture.md's rules hold: pipelines/ imports only the library's public entry points, the CLI sits on both, and no import points up", () => {
      const importsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(/(?:from|import\() ?'([^']+)'/g)].map((m) => m[1]!).filter((x) => x.startsWith('.'));
      const walk = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
      // The entry points package.json exports (optbench, optbench/train, ...), as pipelines/ imports them.
      const exported = Object.values((JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, string | { import: string }> }).exports)
        .flatMap((target) => (typeof target === 'string' ? [] : [target.import.replace(/^\.\/dist\/lib\//, '../lib/')]))
        .filter((i) => i.startsWith('../lib/'));
      assert.ok(exported.includes('../lib/index.js') && exported.includes('../lib/train/index.js'), exported.join(' '));
      for (const f of readdirSync('pipelines').filter((n) => n.endsWith('.ts')))
        for (const i of importsOf(join('pipelines', f)))
          assert.ok(exported.includes(i) || /^\.\/[\w-]+\.js$/.test(i), `pipelines/${f} imports ${i}, which is not one of the package's entry points`);
      // The command line is an application on top of the library and the pipelines.
      const cli = walk(join('pipelines', 'cli'));
      assert.ok(cli.length > 10, 'the CLI lives in pipelines/cli');
      for (const f of cli) for (const i of importsOf(f)) assert.ok(/^\.\.\/\.\.\/lib\/|^\.\.\/[\w-]+\.js$|^\.\/[\w-]+\.js$/.test(i), `${f} imports ${i}`);
      // Nothing in the library imports the pipelines or the CLI: every import points down.
      for (const f of walk('lib')) for (const i of importsOf(f)) assert.ok(!/pipelines\//.test(i), `${f} imports ${i}`);
    });

    it("protocol.md's preset table is lib/optimizers/presets.ts", () => {
      const rows = readFileSync('docs/protocol.md', 'utf8')
        .split('\n')
        .filter((l) => (OPTIMIZER_NAMES as readonly string[]).some((o) => l.startsWith(`| ${o} | `)))
        .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
      const expected: string[][] = [];
      for (const o of OPTIMIZER_NAMES) {
        expected.push([o, 'rule', ...PRESET_NAMES.map((p) => `\`${PRESETS[p][o].rule}\``)]);
        for (const k of paramNamesOf(o)) expected.push([o, k, ...PRESET_NAMES.map((p) => String(PRESETS[p][o].params[k]?.[0] ?? '-'))]);
      }
      // Numbers compare by value, so that 1e-6 and 0.000001 are the same cell.
      const norm = (r: string[]) => r.map((c) => (c !== '' && !Number.isNaN(Number(c)) ? String(Number(c)) : c));
      assert.deepEqual(rows.map(norm), expected.map(norm));
    });
  });
});
