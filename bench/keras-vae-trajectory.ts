/**
 * optbench and Keras on the very same training sequence: the file `bench/keras_vae.py trajectory` writes
 * (Keras's initial weights, the order of the training images, every step's eps and Keras's loss at every
 * step) is replayed in optbench: same weights, same batches, same noise, the same optimizer (tfkeras2
 * preset). One step agrees to float32 rounding (spec/keras-vae.spec.ts); this shows whether hundreds of
 * steps do, or where and how the two curves part (rounding grows in a chaotic system: parting late and
 * to both sides is rounding; parting early, or one side systematically lower, is a difference).
 *
 *   node --import tsx bench/keras-vae-trajectory.ts traj.json [--backend native|cpu]
 *
 * The other way round, from optbench's own initial weights (a seed whose run stalls in optbench, say):
 *
 *   node --import tsx bench/keras-vae-trajectory.ts write --seed 13 [--steps 600] [--optimizer adam] --out own13.json
 *   python bench/keras_vae.py replay --in own13.json --out own13-keras.json
 *   node --import tsx bench/keras-vae-trajectory.ts own13-keras.json
 *
 * `write` keeps optbench's initial weights for the seed (those its runs start from), a permutation of the
 * training images per epoch and N(0, 1) eps for every step; Keras trains that sequence, and the last
 * command replays it in optbench and compares the two curves.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { useBackend } from '../lib/backend/index.js';
import { loadDataset } from '../lib/data/load.js';
import { permutation } from '../lib/data/rng.js';
import { vae1, vae2 } from '../lib/models/vae.js';
import type { BuiltVae } from '../lib/models/types.js';
import { trainableWeights } from '../lib/models/weights.js';
import { createOptimizer } from '../lib/optimizers/index.js';
import { vaeLoss } from '../lib/train/losses.js';
import { cpuInfo } from './torch.js';

interface Trajectory {
  readonly model: 'vae1' | 'vae2';
  readonly seed: number;
  readonly optimizer: string;
  readonly steps: number;
  readonly tensorflow: string;
  readonly keras: string;
  readonly order: string;
  readonly eps: string;
  readonly losses: readonly number[];
  readonly weights: readonly { name: string; shape: number[]; initial: string }[];
}

const fail = (msg: string): never => {
  console.error(`keras-vae-trajectory: ${msg}`);
  process.exit(2);
};

const view = <T>(b64: string, make: (b: ArrayBuffer) => T): T => {
  const b = Buffer.from(b64, 'base64');
  return make(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

const BATCH = 200;

const flag = (args: readonly string[], name: string, fallback?: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] ?? fail(`${name} needs a value`) : fallback ?? fail(`${name} is required`);
};

const b64 = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** optbench's initial weights for a seed, a permutation per epoch and eps for every step, for Keras to replay. */
const write = (args: readonly string[]): void => {
  const seed = Number(flag(args, '--seed'));
  const steps = Number(flag(args, '--steps', '600'));
  const optimizer = flag(args, '--optimizer', 'adam');
  const out = flag(args, '--out');
  const modelName = flag(args, '--model', 'vae1');
  if (!Number.isInteger(seed) || seed < 0 || !Number.isInteger(steps) || steps < 1) fail('--seed and --steps are whole numbers');
  if (modelName !== 'vae1' && modelName !== 'vae2') fail('--model is vae1 or vae2');
  const model = (modelName === 'vae1' ? vae1 : vae2).build(seed) as BuiltVae;
  const latent = modelName === 'vae1' ? 5 : 10;
  const perEpoch = 60000 / BATCH;
  const order = new Int32Array(steps * BATCH);
  for (let e = 0; e * perEpoch < steps; e++) {
    const p = permutation(60000, seed * 1000 + e);
    order.set(p.subarray(0, Math.min(60000, (steps - e * perEpoch) * BATCH)), e * 60000);
  }
  const eps = tf.tidy(() => tf.randomNormal([steps * BATCH, latent], 0, 1, 'float32', seed).dataSync() as Float32Array);
  const doc = {
    what: `${modelName}, seed ${seed}, ${optimizer}: optbench's initial weights for the seed, batches and eps, for bench/keras_vae.py replay`,
    tensorflow: '',
    keras: '',
    model: modelName,
    seed,
    optimizer,
    steps,
    order: b64(order),
    eps: b64(eps),
    losses: [],
    weights: trainableWeights(model).map((w) => ({ name: w.name, shape: w.shape, initial: b64(w.read().dataSync() as Float32Array) })),
  };
  writeFileSync(out, JSON.stringify(doc));
  console.log(`${out}: ${modelName} seed ${seed}, ${steps} steps of ${optimizer} for Keras to replay`);
};

const main = async (): Promise<void> => {
  const args = process.argv.slice(2);
  if (args[0] === 'write') return write(args.slice(1));
  const file = args.find((a) => !a.startsWith('--')) ?? fail('give the file bench/keras_vae.py trajectory wrote');
  const b = args.indexOf('--backend');
  const backend = b >= 0 ? args[b + 1] ?? 'native' : 'native';
  const loaded = await useBackend(backend);
  if (E.isLeft(loaded)) return fail(loaded.left.message);
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Trajectory;
  if (doc.losses.length !== doc.steps) fail(`${file} holds no losses of Keras's: train it first with bench/keras_vae.py replay --in ${file}`);
  const data = await loadDataset({});
  if (E.isLeft(data)) return fail(data.left.message);
  const train = data.right.train;
  const order = view(doc.order, (x) => new Int32Array(x));
  const eps = view(doc.eps, (x) => new Float32Array(x));
  const latent = eps.length / (doc.steps * BATCH);

  const model = (doc.model === 'vae1' ? vae1 : vae2).build(doc.seed) as BuiltVae;
  const weights = trainableWeights(model);
  if (weights.length !== doc.weights.length) fail(`optbench has ${weights.length} weights, Keras ${doc.weights.length}`);
  weights.forEach((w, i) => {
    const k = doc.weights[i]!;
    if (w.shape.join('x') !== k.shape.join('x')) fail(`weight ${i} (${k.name}): optbench ${w.shape.join('x')}, Keras ${k.shape.join('x')}`);
    tf.tidy(() => void w.write(tf.tensor(view(k.initial, (x) => new Float32Array(x)), k.shape)));
  });
  const variables = weights.map((w) => w.read() as tf.Variable);
  const opt = createOptimizer(doc.optimizer, { preset: 'tfkeras2' });
  if (E.isLeft(opt)) return fail(opt.left.message);

  const pixels = train.rows * train.cols;
  const batch = new Float32Array(BATCH * pixels);
  const mine: number[] = [];
  const t0 = Date.now();
  for (let s = 0; s < doc.steps; s++) {
    for (let i = 0; i < BATCH; i++) batch.set(train.images.subarray(order[s * BATCH + i]! * pixels, (order[s * BATCH + i]! + 1) * pixels), i * pixels);
    const loss = tf.tidy(() => {
      const x = tf.tensor4d(batch, [BATCH, train.rows, train.cols, 1]);
      const e = tf.tensor2d(eps.subarray(s * BATCH * latent, (s + 1) * BATCH * latent), [BATCH, latent]);
      const { value, grads } = tf.variableGrads(() => vaeLoss(model, x, true, () => e).loss, variables);
      opt.right.applyGradients(variables.map((v) => ({ name: v.name, tensor: grads[v.name]! })));
      return value.dataSync()[0]!;
    });
    mine.push(loss);
  }
  const seconds = (Date.now() - t0) / 1000;

  const rel = (s: number): number => Math.abs(mine[s]! - doc.losses[s]!) / Math.abs(doc.losses[s]!);
  const firstAbove = (limit: number): string => {
    const s = mine.findIndex((_, i) => rel(i) > limit);
    return s < 0 ? 'never' : `step ${s + 1}`;
  };
  const mean = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;
  console.log(
    `# ${doc.model}, seed ${doc.seed}, ${doc.optimizer}: ${doc.steps} steps, optbench on ${loaded.right} (${seconds.toFixed(0)} s) ` +
      `against TensorFlow ${doc.tensorflow} / Keras ${doc.keras}, same weights, batches and eps (${cpuInfo().model})`,
  );
  console.log('step   keras       optbench    rel. gap');
  for (const s of [1, 2, 5, 10, 20, 50, 100, 150, 200, 300, 400, 500, 600, 900, 1200].filter((x) => x <= doc.steps))
    console.log(`${String(s).padEnd(6)} ${doc.losses[s - 1]!.toFixed(4).padStart(10)}  ${mine[s - 1]!.toFixed(4).padStart(10)}  ${rel(s - 1).toExponential(1)}`);
  console.log(`first step with a gap above 1e-4: ${firstAbove(1e-4)}; above 1e-3: ${firstAbove(1e-3)}; above 1e-2: ${firstAbove(1e-2)}`);
  const tail = Math.min(50, doc.steps);
  console.log(
    `mean loss of the last ${tail} steps: keras ${mean(doc.losses.slice(-tail)).toFixed(3)}, optbench ${mean(mine.slice(-tail)).toFixed(3)}; ` +
      `steps where optbench is lower: ${mine.filter((m, i) => m < doc.losses[i]!).length} of ${doc.steps}`,
  );
};

void main();
