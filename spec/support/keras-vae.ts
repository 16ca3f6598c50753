/**
 * optbench's VAE against Keras's on the same weights, batch and noise: the file `bench/keras_vae.py step`
 * writes (Keras's initial weights, one training batch with its eps, the loss, every gradient, and one step
 * of each optimizer from those gradients on a sample of each weight's entries) is loaded into optbench's
 * model, which computes the same quantities. Used by spec/keras-vae.spec.ts and bench/keras-vae-step.ts.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { vae1, vae2 } from '../../lib/models/vae.js';
import type { BuiltVae } from '../../lib/models/types.js';
import { disposeModel, trainableWeights } from '../../lib/models/weights.js';
import { createOptimizer } from '../../lib/optimizers/index.js';
import { vaeLoss } from '../../lib/train/losses.js';

export interface KerasWeight {
  readonly name: string;
  readonly shape: readonly number[];
  readonly initial: Float32Array;
  readonly gradient: Float32Array;
  /** Flat indices of the entries whose optimizer step was kept. */
  readonly sample: Int32Array;
}

export interface KerasStep {
  readonly model: 'vae1' | 'vae2';
  readonly seed: number;
  readonly tensorflow: string;
  readonly keras: string;
  readonly loss: number;
  readonly images: Uint8Array;
  readonly eps: Float32Array;
  readonly weights: readonly KerasWeight[];
  /** Per optimizer, each weight's displacement after one step at the sampled entries. */
  readonly steps: Readonly<Record<string, readonly Float32Array[]>>;
}

const bytes = (b64: string): Buffer => Buffer.from(b64, 'base64');
const f32 = (b64: string): Float32Array => {
  const b = bytes(b64);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const i32 = (b64: string): Int32Array => {
  const b = bytes(b64);
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

export const readKerasStep = (path: string): KerasStep => {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as {
    model: 'vae1' | 'vae2';
    seed: number;
    tensorflow: string;
    keras: string;
    loss: number;
    images: string;
    eps: string;
    weights: { name: string; shape: number[]; initial: string; gradient: string; sample: string }[];
    steps: Record<string, { displacement: string[] }>;
  };
  return {
    model: doc.model,
    seed: doc.seed,
    tensorflow: doc.tensorflow,
    keras: doc.keras,
    loss: doc.loss,
    images: new Uint8Array(bytes(doc.images)),
    eps: f32(doc.eps),
    weights: doc.weights.map((w) => ({ name: w.name, shape: w.shape, initial: f32(w.initial), gradient: f32(w.gradient), sample: i32(w.sample) })),
    steps: Object.fromEntries(Object.entries(doc.steps).map(([k, v]) => [k, v.displacement.map(f32)])),
  };
};

/** How far two arrays are apart, relative to the reference's largest entry. */
export interface Gap {
  readonly name: string;
  /** max |a - b| / max |b| */
  readonly maxRel: number;
  /** ||a - b|| / ||b|| */
  readonly normRel: number;
}

export const gap = (name: string, a: ArrayLike<number>, b: ArrayLike<number>): Gap => {
  let maxDiff = 0;
  let maxRef = 0;
  let sqDiff = 0;
  let sqRef = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    maxDiff = Math.max(maxDiff, d);
    maxRef = Math.max(maxRef, Math.abs(b[i]!));
    sqDiff += d * d;
    sqRef += b[i]! * b[i]!;
  }
  return { name, maxRel: maxRef === 0 ? maxDiff : maxDiff / maxRef, normRel: sqRef === 0 ? Math.sqrt(sqDiff) : Math.sqrt(sqDiff / sqRef) };
};

/** optbench's model of the file's kind with Keras's initial weights (checked shape by shape). */
export const buildWithKerasWeights = (step: KerasStep): BuiltVae => {
  const model = (step.model === 'vae1' ? vae1 : vae2).build(step.seed) as BuiltVae;
  const mine = trainableWeights(model);
  if (mine.length !== step.weights.length) throw new Error(`optbench has ${mine.length} weights, Keras ${step.weights.length}`);
  mine.forEach((w, i) => {
    const k = step.weights[i]!;
    if (w.shape.join('x') !== k.shape.join('x')) throw new Error(`weight ${i} (${k.name}): optbench ${w.shape.join('x')}, Keras ${k.shape.join('x')}`);
    tf.tidy(() => void w.write(tf.tensor(k.initial, k.shape as number[])));
  });
  return model;
};

export interface StepComparison {
  readonly loss: { readonly optbench: number; readonly keras: number };
  readonly gradients: readonly Gap[];
  /** Per optimizer, one Gap per weight over its sampled entries. */
  readonly steps: Readonly<Record<string, readonly Gap[]>>;
}

/** Loss, gradients and one step of each optimizer (tfkeras2 preset) on the active backend, against Keras's. */
export const compareWithKeras = (step: KerasStep): StepComparison => {
  const model = buildWithKerasWeights(step);
  const n = step.eps.length / (step.model === 'vae1' ? 5 : 10);
  try {
    const variables = trainableWeights(model).map((w) => w.read() as tf.Variable);
    const x = tf.tidy(() => tf.div(tf.tensor4d(step.images, [n, 28, 28, 1], 'float32'), 255) as tf.Tensor4D);
    const eps = tf.tensor2d(step.eps, [n, step.eps.length / n]);
    const { value, grads } = tf.variableGrads(() => vaeLoss(model, x, true, () => eps).loss, variables);
    const loss = value.dataSync()[0]!;
    const gradients = variables.map((v, i) => gap(step.weights[i]!.name, grads[v.name]!.dataSync(), step.weights[i]!.gradient));
    tf.dispose([x, eps, value, ...Object.values(grads)]);
    // One step from Keras's own gradients, so that only the update rule is compared.
    const steps: Record<string, Gap[]> = {};
    for (const [name, moved] of Object.entries(step.steps)) {
      const opt = createOptimizer(name, { preset: 'tfkeras2' });
      if (E.isLeft(opt)) throw new Error(opt.left.message);
      tf.tidy(() => variables.forEach((v, i) => v.assign(tf.tensor(step.weights[i]!.initial, v.shape))));
      const given = variables.map((v, i) => ({ name: v.name, tensor: tf.tensor(step.weights[i]!.gradient, v.shape) }));
      opt.right.applyGradients(given);
      steps[name] = variables.map((v, i) => {
        const w = step.weights[i]!;
        const after = v.dataSync();
        const mine = Float32Array.from(w.sample, (j) => after[j]! - w.initial[j]!);
        return gap(w.name, mine, moved[i]!);
      });
      tf.dispose(given.map((g) => g.tensor));
      opt.right.dispose();
    }
    return { loss: { optbench: loss, keras: step.loss }, gradients, steps };
  } finally {
    disposeModel(model);
  }
};
