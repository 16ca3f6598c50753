/** Each run of a directory as the live page lists it: its spec, where it is, its latest metrics. */
import { canonicalSchedule } from '../config/schedule.js';
import { optimizerText, runDisplayLabel, type RunSpec } from '../config/spec.js';
import { studyValue } from '../report/study.js';
import type { ExportedRun } from '../store/export.js';
import type { RunRow, StoreStatus } from '../store/types.js';
import type { EpochRecord } from '../train/record.js';
import type { DirSnapshot, PlannedRun } from './dir-read.js';

/** Where a run is inside its epoch: from the store (its heartbeat records it), or from the queue's workers. */
export interface StepProgress {
  /** The epoch under way (1-based), its step and its number of steps. */
  readonly epoch: number;
  readonly step: number;
  readonly steps: number;
}

/** `planned`: in grid.json, not yet in the store. */
export type RunState = StoreStatus | 'planned';

export interface RunView {
  readonly runId: string;
  /** `fcnn/adam:lr=0.01/s0`: tells apart every run of a protocol. */
  readonly label: string;
  readonly model: string;
  /** The optimizer with its overrides and schedule, in the --optimizers grammar. */
  readonly optimizer: string;
  readonly seed: number;
  readonly precision: string;
  readonly state: RunState;
  readonly epochsDone: number;
  readonly epochs: number;
  readonly step: StepProgress | null;
  readonly latest: EpochRecord | null;
  readonly final: RunRow['final'];
  /** The study's value for this model and optimizer (accuracy in % or VAE loss), when the run is its configuration. */
  readonly study: number | null;
  readonly kind: 'classifier' | 'vae';
  /** A sweep's trial: validated on held-out training images, so its metrics are no test result. */
  readonly trial: boolean;
  /** Why the run is where it is, in a few words. */
  readonly note: string;
}

/** `epoch k/N`: epochs completed of those planned, and the step of the epoch under way when it is known. */
export const progressText = (v: Pick<RunView, 'epochsDone' | 'epochs' | 'step' | 'state'>): string => {
  const base = `epoch ${v.epochsDone}/${v.epochs}`;
  const s = v.step;
  return s !== null && v.state === 'running' && s.epoch === v.epochsDone + 1 ? `${base}, step ${s.step}/${s.steps} of epoch ${s.epoch}` : base;
};

const studyOf = (spec: RunSpec): number | null =>
  spec.holdout === undefined && Object.keys(spec.optimizer.overrides).length === 0 && canonicalSchedule(spec.optimizer.schedule) === undefined
    ? studyValue(spec.model, spec.optimizer.name, spec.dataset)
    : null;

const kindOf = (spec: RunSpec, latest: EpochRecord | null): 'classifier' | 'vae' =>
  latest !== null ? (latest.train.accuracy === null ? 'vae' : 'classifier') : spec.model.toLowerCase().startsWith('vae') ? 'vae' : 'classifier';

const noteOf = (r: RunRow): string => {
  switch (r.status) {
    case 'failed':
      return r.error?.message ?? 'failed (no reason recorded)';
    case 'running':
      return r.owner !== null ? `trained now by pid ${r.owner.pid} on ${r.owner.host}` : '';
    case 'interrupted':
      return r.error?.message ?? `stopped after epoch ${r.epochsDone}; run the same command again to continue`;
    case 'pending':
      return r.owner !== null ? `claimed by pid ${r.owner.pid} on ${r.owner.host}` : 'not started';
    case 'done':
      return '';
  }
};

const common = (spec: RunSpec) => ({
  label: runDisplayLabel(spec),
  model: spec.model,
  optimizer: optimizerText(spec.optimizer),
  seed: spec.seed,
  precision: spec.precision ?? 'fp32',
  epochs: spec.epochs,
  study: studyOf(spec),
  trial: spec.holdout !== undefined,
});

/** The step the store recorded with the run's last heartbeat (about once a second while it trains). */
const storedStep = (row: RunRow): StepProgress | null =>
  row.progress !== null && row.steps !== null ? { ...row.progress, steps: row.steps } : null;

const fromStore = ({ row, record }: ExportedRun, steps: ReadonlyMap<string, StepProgress>): RunView => {
  const latest = record.epochs[record.epochs.length - 1] ?? null;
  return {
    ...common(row.spec),
    runId: row.runId,
    state: row.status,
    epochsDone: row.epochsDone,
    // With --queue, the worker's own report of the step (read from Redis every second) comes first.
    step: steps.get(row.runId) ?? storedStep(row),
    latest,
    final: row.final,
    kind: kindOf(row.spec, latest),
    note: noteOf(row),
  };
};

const fromPlan = (p: PlannedRun): RunView => ({
  ...common(p.spec),
  runId: p.runId,
  state: 'planned',
  epochsDone: 0,
  step: null,
  latest: null,
  final: null,
  kind: kindOf(p.spec, null),
  note: 'planned in grid.json, not started',
});

/**
 * The directory's runs in the store's order (when each was first claimed or started), then the planned
 * ones; `steps`: the queue's workers' reports of the step each of their runs is at (with --queue).
 */
export const runViews = (snap: DirSnapshot, steps: ReadonlyMap<string, StepProgress> = new Map()): RunView[] => [
  ...snap.runs.map((r) => fromStore(r, steps)),
  ...snap.planned.map(fromPlan),
];
