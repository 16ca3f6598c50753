/**
 * What the one-kernel ReLU convolution gains in a training step. The models' KerasConv2D runs a ReLU
 * layer's training forward on `native` as one kernel (lib/backend/native-conv.ts: the native FusedConv2D,
 * the plain convolution then its bias and ReLU in one pass, with a gradient that runs only the parts
 * asked for) instead of the Conv2D, Add and Relu that TF.js's tf.fused.conv2d runs while gradients are
 * recorded. With the kernel unregistered the layer takes that composed path, so this bench
 *   1. checks that three training steps from the same start give bit-identical losses and weights both ways;
 *   2. times the step both ways in alternating rounds (median of `steps` each) and prints fused/composed
 *      per round and its median: a ratio within one run, like bench/step.ts.
 *
 *   node --import tsx bench/conv-post-ops.ts [models=scnn,bcnn,mcnn,vae1,vae2] [precisions=fp32,bf16]
 *        [rounds=4] [steps=15]
 *
 * Native backend only.
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { cpus } from 'node:os';
import { loadNative } from '../lib/backend/native.js';
import { CONV_KERNEL, convKernelConfig } from '../lib/backend/native-conv.js';
import { PRECISION_MODES, setNativePrecisionMode } from '../lib/backend/native-precision.js';
import { isOneOf } from '../lib/one-of.js';
import { KerasConv2D } from '../lib/models/conv.js';
import { BUILT_IN_MODELS } from '../lib/models/index.js';
import { median } from './torch.js';
import { fail, trainer, type Trainer } from './trainer.js';

/** Registers the one-kernel path (fused) or unregisters it (the layers then compose Conv2D, Add and Relu). */
const useFused = (on: boolean): void => {
  const registered = tf.getKernel(CONV_KERNEL, 'native') !== undefined;
  if (on && !registered) tf.registerKernel(convKernelConfig('native'));
  if (!on && registered) tf.unregisterKernel(CONV_KERNEL, 'native');
};

/** The model's ReLU convolutions, the layers the one-kernel path applies to. */
const reluConvs = ({ model }: Trainer): number =>
  (model.kind === 'classifier' ? model.net.layers : [...model.encoder.layers, ...model.decoder.layers]).filter(
    (l) => l instanceof KerasConv2D && l.activation === 'relu',
  ).length;

/** Three steps from the same weights, batch and dropout masks: losses and final weights, bit for bit. */
const sameNumbers = (model: string): { fused: number; identical: boolean } => {
  const run = (on: boolean) => {
    useFused(on);
    const t = trainer(model, 200);
    const losses = [0, 1, 2].map((i) => t.stepLoss(100 + i));
    const weights = t.vars.map((v) => Array.from(v.dataSync()));
    const fused = reluConvs(t);
    t.dispose();
    return { fused, losses, weights };
  };
  const a = run(false);
  const b = run(true);
  const identical =
    a.losses.every((l, i) => Object.is(l, b.losses[i])) && a.weights.every((w, i) => w.every((v, j) => Object.is(v, b.weights[i]![j])));
  return { fused: b.fused, identical };
};

const stepMs = (model: string, on: boolean, steps: number): number => {
  useFused(on);
  const t = trainer(model, 200);
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
  const [modelList = 'scnn,bcnn,mcnn,vae1,vae2', precisionList = 'fp32,bf16', roundsArg = '4', stepsArg = '15'] = process.argv.slice(2);
  const models = modelList.split(',');
  for (const m of models) if (E.isLeft(BUILT_IN_MODELS.get(m))) fail(`unknown model '${m}'`);
  const precisions = precisionList.split(',').map((p) => (isOneOf(PRECISION_MODES)(p) ? p : fail(`unknown precision '${p}': ${PRECISION_MODES.join(', ')}`)));
  const [rounds, steps] = [roundsArg, stepsArg].map((v) => (/^[1-9][0-9]*$/.test(v) ? Number(v) : fail(`rounds and steps must be whole numbers from 1, got '${v}'`))) as [number, number];
  const loaded = await loadNative();
  if (E.isLeft(loaded)) fail(loaded.left.message);
  await tf.setBackend('native');
  console.log(`conv + bias + relu as one kernel in training (fused) vs Conv2D, Add and Relu (composed); ${cpus()[0]?.model ?? 'CPU'}, ${cpus().length} cores`);
  for (const precision of precisions) {
    setNativePrecisionMode(precision);
    for (const model of models) {
      const same = sameNumbers(model);
      const sides: string[] = [];
      const ratios: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const composed = stepMs(model, false, steps);
        const fused = stepMs(model, true, steps);
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
  useFused(true);
};

void main();
