/**
 * What would the training step gain if a ReLU convolution layer ran its bias and activation inside the
 * convolution (oneDNN post-ops, the native `FusedConv2D` kernel TF.js uses at inference)? The models do
 * not do this: tf.layers' Conv2D runs Conv2D, Add and Relu as three kernels while gradients are recorded.
 * This bench patches each such layer of a freshly built model to call one kernel whose gradient runs its
 * parts on demand (the activation's gradient, then the input gradient, the filter gradient and the
 * bias's sum, each only if asked), and
 *   1. checks that three training steps from the same start give bit-identical losses and weights;
 *   2. times the step both ways in alternating rounds (median of `steps` each) and prints fused/composed
 *      per round and its median: a ratio within one run, like bench/step.ts.
 *
 *   node --import tsx bench/conv-post-ops.ts [models=scnn,bcnn,mcnn,vae1,vae2] [precisions=fp32,bf16]
 *        [rounds=4] [steps=15]
 *
 * Native backend only. Nothing here changes the library: the kernel and its gradient are registered by
 * this script, for this process.
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { cpus } from 'node:os';
import { loadNative } from '../lib/backend/native.js';
import { activationGradFromOutput } from '../lib/backend/native-grads.js';
import { setNativePrecisionMode, type PrecisionMode } from '../lib/backend/native-precision.js';
import { withDropoutSeed } from '../lib/models/dropout.js';
import { disposeModel, getModel, trainableVariables, type BuiltModel } from '../lib/models/index.js';
import { createOptimizer } from '../lib/optimizers/index.js';
import { classifierForward, vaeForward } from '../lib/train/losses.js';
import { median } from './torch.js';

const KERNEL = 'BenchConvBiasRelu';

/** The fields of tf.layers' Conv2D this bench reads (they are not public in TF.js's types). */
interface ConvLayer {
  getClassName(): string;
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: unknown): tf.Tensor | tf.Tensor[];
  readonly activation: { getClassName(): string };
  readonly kernel: tf.LayerVariable;
  readonly bias: tf.LayerVariable | null;
  readonly strides: [number, number];
  readonly padding: 'same' | 'valid';
  readonly dilationRate: [number, number];
}

/** Whether the patched layers take the one-kernel path (toggled between the two sides of a round). */
let fuse = false;

const register = (): void => {
  const fused = tf.getKernel('FusedConv2D', 'native');
  if (fused === undefined) throw new Error('the native backend has no FusedConv2D kernel');
  tf.registerKernel({
    kernelName: KERNEL,
    backendName: 'native',
    kernelFunc: (a) => fused.kernelFunc({ ...a, attrs: { ...a.attrs, activation: 'relu' } }),
  });
  tf.registerGradient({
    kernelName: KERNEL,
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const dz = activationGradFromOutput('relu', y, Array.isArray(dy) ? dy[0]! : dy);
      const conv = { strides: attrs['strides'], pad: attrs['pad'], dataFormat: 'NHWC', dimRoundingMode: attrs['dimRoundingMode'] };
      const run = (name: string, inputs: tf.NamedTensorMap, extra: tf.NamedAttrMap): tf.Tensor =>
        tf.engine().runKernel(name, inputs, { ...conv, ...extra } as unknown as tf.NamedAttrMap) as tf.Tensor;
      return {
        x: () => run('Conv2DBackpropInput', { dy: dz, filter }, { inputShape: x.shape }),
        filter: () => run('Conv2DBackpropFilter', { x, dy: dz }, { filterShape: filter.shape }),
        bias: () => tf.sum(dz, [0, 1, 2]),
      };
    },
  });
};

/** Patches the model's ReLU convolutions with a bias; returns how many. */
const patch = (model: BuiltModel): number => {
  const layers = model.kind === 'classifier' ? model.net.layers : [...model.encoder.layers, ...model.decoder.layers];
  let n = 0;
  for (const layer of layers as unknown as ConvLayer[]) {
    if (layer.getClassName() !== 'Conv2D' || layer.activation.getClassName() !== 'relu' || layer.bias === null) continue;
    const composed = layer.call.bind(layer);
    const bias = layer.bias;
    (layer as { call: ConvLayer['call'] }).call = (inputs, kwargs) => {
      if (!fuse || tf.engine().state.gradientDepth === 0) return composed(inputs, kwargs);
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const attrs = { strides: layer.strides, pad: layer.padding, dataFormat: 'NHWC', dilations: layer.dilationRate };
      return tf.engine().runKernel(KERNEL, { x, filter: layer.kernel.read(), bias: bias.read() }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    };
    n++;
  }
  return n;
};

interface Trainer {
  readonly fused: number;
  readonly vars: tf.Variable[];
  step(seed: number): number;
  dispose(): void;
}

const trainer = (name: string): Trainer => {
  const def = getModel(name);
  const opt = createOptimizer('adamax', { preset: 'tfkeras2' });
  if (E.isLeft(def)) throw new Error(def.left.message);
  if (E.isLeft(opt)) throw new Error(opt.left.message);
  const model = def.right.build(42);
  const fused = patch(model);
  const vars = trainableVariables(model);
  const x = tf.randomUniform([200, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.randomUniform([200], 0, 10, 'int32', 2) as tf.Tensor1D;
  const loss = model.kind === 'classifier' ? () => classifierForward(model, x, labels, true).loss : () => vaeForward(model, x, true, 3).loss;
  return {
    fused,
    vars,
    step: (seed) => withDropoutSeed(seed, () => tf.tidy(() => (opt.right.minimize(loss, true, vars) as tf.Scalar).dataSync()[0]!)),
    dispose: () => {
      opt.right.dispose();
      disposeModel(model);
      tf.dispose([x, labels]);
    },
  };
};

/** Three steps from the same weights, batch and dropout masks: losses and final weights, bit for bit. */
const sameNumbers = (model: string): { fused: number; identical: boolean } => {
  const run = (on: boolean) => {
    fuse = on;
    const t = trainer(model);
    const losses = [0, 1, 2].map((i) => t.step(100 + i));
    const weights = t.vars.map((v) => Array.from(v.dataSync()));
    t.dispose();
    return { fused: t.fused, losses, weights };
  };
  const a = run(false);
  const b = run(true);
  const identical =
    a.losses.every((l, i) => Object.is(l, b.losses[i])) && a.weights.every((w, i) => w.every((v, j) => Object.is(v, b.weights[i]![j])));
  return { fused: b.fused, identical };
};

const stepMs = (model: string, on: boolean, steps: number): number => {
  fuse = on;
  const t = trainer(model);
  for (let i = 0; i < 3; i++) t.step(i);
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    t.step(10 + i);
    ms.push(performance.now() - start);
  }
  t.dispose();
  return median(ms);
};

const main = async (): Promise<void> => {
  const [models = 'scnn,bcnn,mcnn,vae1,vae2', precisions = 'fp32,bf16', rounds = '4', steps = '15'] = process.argv.slice(2);
  const loaded = await loadNative();
  if (E.isLeft(loaded)) throw new Error(loaded.left.message);
  await tf.setBackend('native');
  register();
  console.log(`conv + bias + relu as one kernel in training (fused) vs tf.layers' three (composed); ${cpus()[0]?.model ?? 'CPU'}, ${cpus().length} cores`);
  for (const precision of precisions.split(',') as PrecisionMode[]) {
    setNativePrecisionMode(precision);
    for (const model of models.split(',')) {
      const same = sameNumbers(model);
      const sides: string[] = [];
      const ratios: number[] = [];
      for (let r = 0; r < Number(rounds); r++) {
        const composed = stepMs(model, false, Number(steps));
        const fused = stepMs(model, true, Number(steps));
        sides.push(`${composed.toFixed(1)}/${fused.toFixed(1)}`);
        ratios.push(fused / composed);
      }
      console.log(
        `  ${model} ${precision}: ${same.fused} layers; 3 steps bit-identical: ${same.identical}; ms composed/fused per round ${sides.join(' ')}; ` +
          `fused/composed median ${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`,
      );
    }
  }
  setNativePrecisionMode('fp32');
};

void main();
