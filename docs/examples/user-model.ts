// docs/adding-a-model.md: a user model, given to a runtime and trained with runFit (and evaluated) under the study's protocol.
// In your own project, import from 'optbench' and 'optbench/models' instead of '../../lib/index.js' and
// '../../lib/models/index.js'.
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { lastValueFrom, toArray } from 'rxjs';
import {
  createRuntime,
  evaluate,
  runFit,
  type Dataset,
  type LoadConfig,
  type OptbenchError,
  type RunEvent,
  type RunSpec,
  type Runtime,
} from '../../lib/index.js';
import { dense, seededDropout, type ModelDef } from '../../lib/models/index.js';

/** A classifier: [n, 28, 28, 1] images in, [n, 10] logits out (the softmax lives in the loss). */
export const tinyMlp: ModelDef = {
  name: 'tiny-mlp',
  kind: 'classifier',
  description: 'Dense 32 relu, Dropout 0.2, Dense 10',
  inputShape: [28, 28, 1],
  build: (seed) => {
    const net = tf.sequential({ name: 'tiny-mlp' });
    net.add(tf.layers.flatten({ inputShape: [28, 28, 1], name: 'flatten' }));
    // dense(seed, layerIndex, ...): glorot_uniform kernel seeded from (seed, layerIndex), zero bias.
    net.add(dense(seed, 0, { units: 32, activation: 'relu', name: 'hidden' }));
    // SeededDropout: a fresh mask every step, reproducible from (run seed, epoch, step, index).
    net.add(seededDropout({ rate: 0.2, index: 0, name: 'dropout' }));
    net.add(dense(seed, 1, { units: 10, activation: 'linear', name: 'logits' }));
    return { kind: 'classifier', net };
  },
};

/** A runtime whose models are the study's six and tiny-mlp: runs given it can name 'tiny-mlp'. */
export const tinyRuntime = (): E.Either<OptbenchError, Runtime> => createRuntime({ models: [tinyMlp] });

export const FIXTURE: LoadConfig = { dir: 'fixtures/fashion-mini', dataset: 'fashion-mini' };

/**
 * One run of the user model on a loaded data set (e.g. `await loadDataset(FIXTURE)`), as plain data:
 * every RunEvent it emitted. A bad spec or a diverged run arrives as a RunFailed event, not as a throw.
 */
export const trainTinyMlp = async (
  data: Dataset,
  overrides: Partial<RunSpec> = {},
): Promise<E.Either<OptbenchError, RunEvent[]>> => {
  const runtime = tinyRuntime();
  if (E.isLeft(runtime)) return runtime;
  const spec: RunSpec = {
    dataset: data.name,
    model: tinyMlp.name,
    optimizer: { name: 'adam', preset: 'tfkeras2', overrides: {} },
    seed: 0,
    epochs: 3,
    batchSize: 25,
    backend: tf.getBackend(),
    subset: 100,
    testSubset: 100,
    ...overrides,
  };
  return E.right(await lastValueFrom(runFit(spec, data, { runtime: runtime.right }).pipe(evaluate(), toArray())));
};
