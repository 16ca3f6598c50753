/**
 * For specs of the `native` backend: loads it, failing (not skipping) where it cannot load, because CI
 * builds the addon, so a missing one is a failure that carries the build instructions.
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { loadNative } from '../../lib/backend/native.js';

/** Loads `native` and returns the backend that was active, to restore after the suite. */
export const requireNative = async (): Promise<string> => {
  await tf.ready();
  const previous = tf.getBackend();
  const loaded = await loadNative();
  if (E.isLeft(loaded)) assert.fail(loaded.left.message);
  return previous;
};

/** The kernels `f` ran, in order, on the active backend (composite ops' `__op` entries left out); its result is disposed. */
export const kernelNames = async (f: () => tf.Tensor | tf.Tensor[]): Promise<string[]> => {
  const info = await tf.profile(f);
  tf.dispose(info.result as tf.Tensor | tf.Tensor[]);
  return info.kernels.map((k) => k.name).filter((n) => !n.endsWith('__op'));
};
