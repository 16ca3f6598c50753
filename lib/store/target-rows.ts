/** The store's held-out metrics and target hits as SQLite returns them (decoded), and as the library's own types. */
import * as t from 'io-ts';
import type { EpochRecord } from '../train/record.js';
import { TargetMetric, type TargetHit } from '../train/target.js';
import { epochRecord, type EpochDbRow } from './rows.js';

export const TargetDbRow = t.type({
  run_id: t.string,
  metric: TargetMetric,
  goal: t.number,
  value: t.number,
  epoch: t.number,
  step: t.number,
  seconds: t.number,
});
export type TargetDbRow = t.TypeOf<typeof TargetDbRow>;

export const targetHit = (r: TargetDbRow): TargetHit => ({
  metric: r.metric,
  goal: r.goal,
  value: r.value,
  epoch: r.epoch,
  step: r.step,
  seconds: r.seconds,
});

/** An epoch row with its held-out metrics (schema v3), where they were measured; a loss is never null when they were. */
export const epochWithHeldOut = (r: EpochDbRow): EpochRecord => {
  const e = epochRecord(r);
  return r.validation_loss === null || r.validation_loss === undefined
    ? e
    : { ...e, validation: { loss: r.validation_loss, accuracy: r.validation_accuracy ?? null } };
};
