import type { RunSpec } from '../config/spec.js';
import type { Dataset } from '../data/types.js';
import type { OptbenchError } from '../errors.js';
import type { BuiltModel } from '../models/types.js';
import type { EpochEnded, RunEnded } from './events.js';

/**
 * The evaluate contract, in-process side. A trainer that trains here lends the epoch's trained model with
 * its EpochEnded (and, after the last epoch, with its RunEnded) while it delivers that event: downstream
 * stages run synchronously inside the delivery, may read the model through `borrow(event)` and must be done
 * with it when the delivery returns, because the trainer then takes the next step (or disposes the model).
 * After that `borrow` gives undefined. Events stay plain data: the loan lives beside them, never in them,
 * so a copy of an event (`{ ...e }`, JSON, a queue) carries no model.
 *
 * A trainer elsewhere (a queue worker) cannot lend: it evaluates where the model is, with the options
 * that travelled with the job (RunContext.evaluation), and its events arrive evaluated.
 */
export interface ModelLoan {
  readonly model: BuiltModel;
  readonly spec: RunSpec;
  /** The data the run trains on (evaluation splits come from it). */
  readonly data: Dataset;
  /** The run's divergence reference, its first training step's loss (see divergence.ts). */
  readonly reference: number;
  /**
   * Runs a synchronous evaluation of the model as the run evaluates it: in its precision (a bf16 run in
   * bf16, an fp32 run in fp32, whatever else trains in this process) and at its optimizer's evaluation
   * point (Schedule-Free's averaged x, not the y it trains at). A stage that evaluates the model must wrap
   * its forward passes in it.
   */
  readonly compute: <T>(fn: () => T) => T;
  /**
   * Ends the run after this delivery as RunFailed{error} instead of going on: what `evaluate` does when the
   * evaluation diverges. A stage that calls it should not pass the event on.
   */
  readonly fail: (error: OptbenchError) => void;
}

const loans = new WeakMap<object, ModelLoan>();
/** The events being delivered with a loan right now, by what they are about: to tell a copy of one. */
const delivering = new Map<string, object>();
const keyOf = (e: { readonly type: string; readonly runId: string; readonly epoch?: number }): string => `${e.type}/${e.runId}/${e.epoch ?? ''}`;

/** Lends `loan` with `event` until `revoke(event)`. */
export const lend = <E extends EpochEnded | RunEnded>(event: E, loan: ModelLoan): E => {
  loans.set(event, loan);
  delivering.set(keyOf(event), event);
  return event;
};

export const revoke = (event: EpochEnded | RunEnded): void => {
  loans.delete(event);
  if (delivering.get(keyOf(event)) === event) delivering.delete(keyOf(event));
};

/**
 * Whether `event` is a copy of an event being delivered with its model right now (`map(e => ({ ...e }))`
 * before `evaluate`): the loan travels with the trainer's own object, so a copy has none.
 */
export const isCopyOfLent = (event: EpochEnded | RunEnded): boolean => {
  const original = delivering.get(keyOf(event));
  return original !== undefined && original !== event;
};

/** The model lent with this event, while its delivery lasts; undefined for any other event or later. */
export const borrow = (event: object): ModelLoan | undefined => loans.get(event);
