import * as t from 'io-ts';
import { isOptbenchError, type OptbenchError } from './errors.js';

/**
 * An OptbenchError as it travels (a job's events in Redis, a training process's message, a store row):
 * an object with a known tag and a message; its other fields are its variant's and pass as they are.
 */
export const OptbenchErrorCodec = new t.Type<OptbenchError, OptbenchError, unknown>(
  'an optbench error (a known _tag and a message)',
  isOptbenchError,
  (u, c) => (isOptbenchError(u) ? t.success(u) : t.failure(u, c)),
  (e) => e,
);
