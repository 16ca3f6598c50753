import { describe as describeSample, type SampleSummary } from '../stats/index.js';
import type { AshaState } from '../sweep/asha.js';
import type { SweepRecord } from '../sweep/record.js';
import type { SearchConfig, TrialStatus } from '../sweep/search.js';
import type { RunRecord } from '../train/record.js';
import { ciHalfWidth } from './seeds.js';

export interface SweepTrialRow {
  readonly trial: number;
  readonly point: Readonly<Record<string, number | boolean>>;
  /** Validation metric at the last trained epoch (accuracy in %, or loss), and that epoch. */
  readonly value: number | null;
  readonly epochs: number;
  readonly status: TrialStatus;
  /** Per-epoch validation metric, in report units. */
  readonly curve: readonly number[];
}

export interface SweepSearchReport {
  readonly config: SearchConfig;
  readonly trials: readonly SweepTrialRow[];
  readonly best: number | null;
  /** The chosen trial's validation metric at the full budget (held-out images). */
  readonly heldOut: number | null;
  readonly asha: AshaState | null;
}

export interface FinalReport {
  readonly optimizer: string;
  readonly role: 'tuned' | 'default';
  readonly overrides: Readonly<Record<string, number>>;
  /** Final test metric of each finished seed (accuracy in %, or loss). */
  readonly values: readonly number[];
  readonly summary: SampleSummary | null;
  /** Half-width of the 95 % t interval; null with fewer than two seeds. */
  readonly ci: number | null;
  readonly planned: number;
}

export interface SweepReport {
  readonly kind: 'sweep' | 'tune';
  readonly title: string;
  readonly model: string;
  readonly classifier: boolean;
  readonly searches: readonly SweepSearchReport[];
  readonly finals: readonly FinalReport[];
}

const toUnits = (classifier: boolean, x: number): number => (classifier ? 100 * x : x);

/** Sweep record + the final runs' records in, plain report data out. */
export const buildSweepReport = (record: SweepRecord, runs: readonly RunRecord[]): SweepReport => {
  const first = record.searches[0]?.config;
  const classifier = (first?.direction ?? 'max') === 'max';
  const byId = new Map(runs.map((r) => [r.runId, r]));
  const searches = record.searches.map((s): SweepSearchReport => {
    const trials = s.trials.map((t): SweepTrialRow => {
      const curve = t.metrics.map((m) => toUnits(classifier, m));
      return { trial: t.trial, point: t.point, value: curve.length > 0 ? curve[curve.length - 1]! : null, epochs: curve.length, status: t.status, curve };
    });
    const best = s.best;
    return { config: s.config, trials, best, heldOut: best === null ? null : (trials[best]?.value ?? null), asha: s.asha };
  });
  const finals = record.final.map((g): FinalReport => {
    const values = g.runIds.flatMap((id) => {
      const r = byId.get(id);
      if (r?.status !== 'done' || !r.final) return [];
      const v = classifier ? r.final.testAccuracy : r.final.testLoss;
      return v === null || !Number.isFinite(v) ? [] : [toUnits(classifier, v)];
    });
    return {
      optimizer: g.optimizer,
      role: g.role,
      overrides: g.overrides,
      values,
      summary: values.length > 0 ? describeSample(values) : null,
      ci: ciHalfWidth(values),
      planned: g.runIds.length,
    };
  });
  return { kind: record.kind, title: record.title, model: first?.model ?? '', classifier, searches, finals };
};

