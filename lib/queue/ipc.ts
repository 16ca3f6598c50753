import * as t from 'io-ts';
import { NonNegativeInt, PositiveInt } from '../config/spec.js';
import { OptbenchErrorCodec } from '../errors-codec.js';
import { RunEvent } from '../train/events.js';
import { JobData } from './job.js';

/**
 * The messages between a worker and its training process (lib/queue/training-slot.ts and
 * train-process.ts), as codecs: each side decodes what it receives, and the types are the codecs'.
 * Bytes travel as Uint8Array (the channel's `advanced` serialization keeps them binary).
 */
const Bytes = new t.Type<Uint8Array, Uint8Array, unknown>(
  'bytes (a Uint8Array)',
  (u): u is Uint8Array => u instanceof Uint8Array,
  (u, c) => (u instanceof Uint8Array ? t.success(u) : t.failure(u, c)),
  (b) => b,
);

/** Worker -> training process. */
export const ToTrainer = t.union([
  t.intersection([
    t.type({ type: t.literal('train'), job: JobData, checkpoint: t.union([Bytes, t.null]), epochs: NonNegativeInt }),
    t.partial({ dataDir: t.string }),
  ]),
  t.type({ type: t.literal('stop') }),
  t.type({ type: t.literal('saved'), epoch: PositiveInt, ok: t.boolean }),
]);
export type ToTrainer = t.TypeOf<typeof ToTrainer>;

/** Training process -> worker. */
export const FromTrainer = t.union([
  t.type({ type: t.literal('ready') }),
  t.type({ type: t.literal('event'), event: RunEvent }),
  t.type({ type: t.literal('checkpoint'), epoch: PositiveInt, bytes: Bytes }),
  /** The job cannot be trained here (its backend or data will not load): the worker decides what that means. */
  t.type({ type: t.literal('refuse'), error: OptbenchErrorCodec }),
  t.type({ type: t.literal('finished') }),
]);
export type FromTrainer = t.TypeOf<typeof FromTrainer>;
