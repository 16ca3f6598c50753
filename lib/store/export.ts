import { csvFormatRows } from 'd3-dsv';
import { scheduleText } from '../config/schedule.js';
import { runDisplayLabel } from '../config/spec.js';
import type { RunRecord } from '../train/record.js';
import type { RunRow } from './types.js';

export type ExportFormat = 'csv' | 'json';

export interface ExportedRun {
  readonly row: RunRow;
  readonly record: RunRecord;
}

export const EXPORT_CSV_COLUMNS = [
  'run_id',
  'label',
  'status',
  'dataset',
  'model',
  'optimizer',
  'preset',
  'overrides',
  'schedule',
  'seed',
  'epochs',
  'batch_size',
  'backend',
  'epoch',
  'train_loss',
  'train_accuracy',
  'test_loss',
  'test_accuracy',
  'train_ms',
  'eval_ms',
  'final_test_loss',
  'final_test_accuracy',
  'error',
] as const;

/**
 * One row per run and epoch (a run with no epoch yet gets one row with empty epoch columns, so that failed
 * runs and why still show). Numbers are written as JavaScript prints them, which reads back to the same double.
 */
export const exportCsv = (runs: readonly ExportedRun[]): string => {
  const rows: string[][] = [[...EXPORT_CSV_COLUMNS]];
  for (const { row, record } of runs) {
    const s = record.spec;
    const head = [
      row.runId,
      // The label that tells runs apart (`fcnn/sgd:lr=1e9/s0`), not the store's short one.
      runDisplayLabel(s),
      row.status,
      s.dataset,
      s.model,
      s.optimizer.name,
      s.optimizer.preset,
      JSON.stringify(s.optimizer.overrides),
      // In the --optimizers grammar (schedule=cosine,warmup=500); empty for the study's constant rate.
      scheduleText(s.optimizer.schedule),
      s.seed,
      s.epochs,
      s.batchSize,
      record.backend,
    ];
    const tail = [record.final?.testLoss ?? null, record.final?.testAccuracy ?? null, row.error?.message ?? null];
    const epochs = record.epochs.length > 0 ? record.epochs : [null];
    for (const e of epochs) {
      const mid =
        e === null
          ? [null, null, null, null, null, null, null]
          : [e.epoch, e.train.loss, e.train.accuracy, e.test?.loss ?? null, e.test?.accuracy ?? null, e.trainMs, e.evalMs];
      rows.push([...head, ...mid, ...tail].map((v) => String(v ?? '')));
    }
  }
  return csvFormatRows(rows) + '\n'; // RFC 4180: fields with a comma, quote or line break are quoted
};

/** JSON cannot hold NaN or infinities: they are written as the strings "NaN", "Infinity", "-Infinity". */
const finite = (_k: string, v: unknown): unknown =>
  typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;

/** The full run records, each with what the store adds (status as it stands, versions, host, timings). */
export const exportJson = (runs: readonly ExportedRun[]): string =>
  JSON.stringify(
    runs.map(({ row, record }) => ({
      ...record,
      storeStatus: row.status,
      epochsDone: row.epochsDone,
      versions: row.versions,
      host: row.host,
      pid: row.pid,
      trainMs: row.trainMs,
      evalMs: row.evalMs,
      createdAt: row.createdAt,
      finishedAt: row.finishedAt,
    })),
    finite,
    2,
  ) + '\n';
