/** The store's held-out metrics and target hits as SQLite returns them, and as the library's own types. */
import type { EpochRecord } from '../train/record.js';
import type { TargetHit, TargetMetric } from '../train/target.js';
import { epochRecord, type EpochDbRow } from './rows.js';

export interface TargetDbRow {
  run_id: string;
  metric: TargetMetric;
  goal: number;
  value: number;
  epoch: number;
  step: number;
  seconds: number;
}

export const targetHit = (r: TargetDbRow): TargetHit => ({
  metric: r.metric,
  goal: r.goal,
  value: r.value,
  epoch: r.epoch,
  step: r.step,
  seconds: r.seconds,
});

/** An epoch row with its held-out metrics (schema v3), where they were measured; a loss is never null when they were. */
export const epochWithHeldOut = (r: EpochDbRow & { validation_loss?: number | null; validation_accuracy?: number | null }): EpochRecord => {
  const e = epochRecord(r);
  return r.validation_loss === null || r.validation_loss === undefined
    ? e
    : { ...e, validation: { loss: r.validation_loss, accuracy: r.validation_accuracy ?? null } };
};
