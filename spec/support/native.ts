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
