import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { concatMap, defer, from, of } from 'rxjs';
import type { BuiltModel } from '../models/types.js';
import { modelWeights } from '../models/weights.js';
import { deleteCheckpoint, readCheckpoint, writeCheckpoint, type Checkpoint, type NamedArrays } from './checkpoint.js';
import type { Checkpointer } from '../train/fit.js';
import { raise } from '../observable.js';

/** Positional keys: a freshly built model's variable names carry other suffixes than the saved one's. */
const toArrays = (tensors: readonly tf.Tensor[]): NamedArrays =>
  Object.fromEntries(
    tensors.map((t, i) => [String(i), { shape: [...t.shape], values: Float32Array.from(t.dataSync() as Float32Array) }]),
  );

const ordered = (arrays: NamedArrays) =>
  Object.entries(arrays)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, v]) => v);

/** A run's model and optimizer state after `epoch`, as plain data. */
export const captureState = async (runId: string, epoch: number, model: BuiltModel, optimizer: tf.Optimizer): Promise<Checkpoint> => {
  const [iter, ...state] = await optimizer.getWeights();
  const ckpt: Checkpoint = {
    runId,
    epoch,
    weights: toArrays(modelWeights(model).map((w) => w.read())),
    optimizer: { iteration: iter ? (await iter.tensor.data())[0]! : 0, weights: toArrays(state.map((s) => s.tensor)) },
    rng: null,
  };
  if (iter) iter.tensor.dispose();
  return ckpt;
};

/**
 * Puts a checkpoint's state into a freshly built model and optimizer; returns the epoch to resume after,
 * or 0 (with a warning) when the checkpoint does not fit the model.
 */
export const restoreState = async (
  ckpt: Checkpoint,
  model: BuiltModel,
  optimizer: tf.Optimizer,
  warn: (message: string) => void,
): Promise<number> => {
  const weights = modelWeights(model);
  const saved = ordered(ckpt.weights);
  if (saved.length !== weights.length || saved.some((s, i) => s.shape.join() !== weights[i]!.shape.join())) {
    warn(`the checkpoint of run ${ckpt.runId} does not fit its model; the run restarts from its first epoch.`);
    return 0;
  }
  tf.tidy(() => weights.forEach((w, i) => w.write(tf.tensor(saved[i]!.values, saved[i]!.shape as number[]))));
  const iter = { name: 'iter', tensor: tf.scalar(ckpt.optimizer.iteration, 'int32') };
  const state = ordered(ckpt.optimizer.weights).map((s, i) => ({
    name: `state${i}`,
    tensor: tf.tensor(s.values, s.shape as number[]),
  }));
  await optimizer.setWeights([iter, ...state]);
  tf.dispose([iter.tensor, ...state.map((s) => s.tensor)]);
  return ckpt.epoch;
};

const stderrWarn = (m: string): void => void process.stderr.write(`optbench: ${m}\n`);

/**
 * Checkpoints in `dir` (one file per run, written atomically after every epoch but the last). A checkpoint
 * is used only when `completedEpochs(runId)` (what the store holds) reaches its epoch, so metrics and weights
 * never disagree; an unreadable checkpoint restarts its run from the first epoch, with a warning.
 */
export const fileCheckpointer = (
  dir: string,
  completedEpochs: (runId: string) => number = () => Infinity,
  warn: (message: string) => void = stderrWarn,
): Checkpointer => ({
  restore: (runId, model, optimizer) =>
    defer(() =>
      pipe(
        readCheckpoint(dir, runId),
        E.match(
          (e) => {
            warn(e.message);
            return of(0);
          },
          (ckpt) => (ckpt === null || completedEpochs(runId) < ckpt.epoch ? of(0) : from(restoreState(ckpt, model, optimizer, warn))),
        ),
      ),
    ),
  save: (runId, epoch, model, optimizer) =>
    defer(() => from(captureState(runId, epoch, model, optimizer))).pipe(
      concatMap(({ runId: _id, ...state }) =>
        pipe(
          writeCheckpoint(dir, runId, state),
          E.match(
            (e) => raise( e),
            () => of(undefined),
          ),
        ),
      ),
    ),
  discard: (runId) =>
    defer(() => {
      deleteCheckpoint(dir, runId);
      return of(undefined);
    }),
});
