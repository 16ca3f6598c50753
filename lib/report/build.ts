import { canonicalSchedule, scheduleText } from '../config/schedule.js';
import { canonicalJson, type RunSpec } from '../config/spec.js';
import { countsAsResult, gridHoldout } from '../config/protocol.js';
import type { EpochRecord, GridRecord, RunRecord } from '../train/record.js';
import { modelTarget, seriesTimeToTarget, timeToTargetReport } from './time-to-target.js';
import { stat } from './stats.js';
import { ciHalfWidth, compareSeeds } from './seeds.js';
import { FASHION_CLASSES } from '../data/types.js';
import { compareByStudyOrder, STUDY_MODELS, STUDY_OPTIMIZERS, studyValue } from './study.js';
import { oneProtocol } from './protocol.js';
import type {
  Cell,
  CellStatus,
  ConfusionReport,
  CurvePoint,
  ModelKind,
  ModelReport,
  Report,
  ReportSource,
  RunSummary,
  SeriesReport,
  Stat,
  VaeReport,
} from './types.js';

interface Slot {
  readonly spec: RunSpec;
  readonly record: RunRecord | null;
}

// A schedule is part of the configuration; the constant rate adds nothing, so keys from before schedules hold.
const configKey = (s: RunSpec): string => {
  const schedule = canonicalSchedule(s.optimizer.schedule);
  return canonicalJson([s.optimizer.name, s.optimizer.preset, s.optimizer.overrides, ...(schedule !== undefined ? [schedule] : [])]);
};

/** Accuracy in %: records hold fractions; a value above 1 is taken as a percentage already. */
const percent = (a: number): number => (a <= 1 ? a * 100 : a);

const groupBy = <T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> => {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
};

/** Every planned or recorded run, one per (model, optimizer config, seed); the newest record wins. */
const slots = (source: ReportSource): Slot[] => {
  const byKey = new Map<string, Slot>();
  const key = (s: RunSpec) => canonicalJson([s.model, configKey(s), s.seed]);
  for (const spec of source.grid?.specs ?? []) byKey.set(key(spec), { spec, record: null });
  // A sweep's trials are evaluated on held-out training images, not the test set: they are no test result.
  const counted = countsAsResult(gridHoldout(source.grid?.specs ?? []));
  for (const r of source.runs) {
    if (!counted(r.spec)) continue;
    const k = key(r.spec);
    const prev = byKey.get(k)?.record;
    if (!prev || prev.updatedAt <= r.updatedAt) byKey.set(k, { spec: r.spec, record: r });
  }
  return [...byKey.values()];
};

/** Each epoch in order, beside the training seconds spent up to and including it. */
const timedEpochs = (epochs: readonly EpochRecord[]): { e: EpochRecord; s: number }[] => {
  let total = 0;
  return [...epochs].sort((a, b) => a.epoch - b.epoch).map((e) => ({ e, s: (total += e.trainMs / 1000) }));
};

const curve = (records: readonly RunRecord[]): CurvePoint[] => {
  const runs = records.map((r) => timedEpochs(r.epochs));
  const maxEpoch = Math.max(0, ...runs.map((es) => es.length));
  const points: CurvePoint[] = [];
  for (let i = 0; i < maxEpoch; i++) {
    const at = runs.flatMap((es) => es[i] ?? []);
    const pick = (f: (e: EpochRecord) => number | null): number[] =>
      at.map(({ e }) => f(e)).filter((v): v is number => v !== null);
    const acc = (f: (e: EpochRecord) => number | null): Stat | null => {
      const v = pick(f);
      return v.length > 0 ? stat(v.map(percent)) : null;
    };
    const trainLoss = stat(pick((e) => e.train.loss));
    const evaluated = at.some(({ e }) => e.test !== null);
    const testLoss = stat(pick((e) => e.test?.loss ?? null));
    const secs = stat(at.map(({ s }) => s));
    const first = at[0];
    if (!first || !trainLoss || !secs || (evaluated && !testLoss)) break; // a diverged epoch ends the curve
    points.push({
      epoch: first.e.epoch,
      seconds: secs,
      trainLoss,
      testLoss,
      trainAccuracy: acc((e) => e.train.accuracy),
      testAccuracy: acc((e) => e.test?.accuracy ?? null),
    });
  }
  return points;
};

/** The run's final metric: the final evaluation when done, else its last epoch's test metric. */
const finalValue = (r: RunRecord, kind: ModelKind): number | null => {
  if (r.status === 'failed') return null;
  const last = r.epochs[r.epochs.length - 1];
  if (kind === 'classifier') {
    const a = r.status === 'done' && r.final?.testAccuracy != null ? r.final.testAccuracy : (last?.test?.accuracy ?? null);
    return a === null ? null : percent(a);
  }
  return r.status === 'done' && r.final ? r.final.testLoss : (last?.test?.loss ?? null);
};

const summary = (s: Slot, kind: ModelKind): RunSummary => ({
  runId: s.record?.runId ?? '',
  seed: s.spec.seed,
  status: s.record?.status ?? 'pending',
  epochsDone: s.record?.epochs.length ?? 0,
  epochsPlanned: s.spec.epochs,
  error: s.record?.error?.message ?? null,
  value: s.record?.status === 'done' ? finalValue(s.record, kind) : null,
});

const cellStatus = (runs: readonly RunSummary[], value: Stat | null, records: readonly RunRecord[]): CellStatus => {
  // An interrupted run resumes from its last epoch: it counts as unfinished, not failed.
  const unfinished = runs.some((r) => r.status === 'running' || r.status === 'pending' || r.status === 'interrupted');
  if (unfinished) return value ? 'partial' : 'pending';
  if (value) return 'done';
  // Runs trained by a pipeline without `evaluate` carry training metrics only: nothing to tabulate.
  const unevaluated = records.length > 0 && records.every((r) => r.status === 'done' && r.epochs.every((e) => e.test === null));
  return unevaluated ? 'unevaluated' : 'failed';
};

const modelKind = (model: string, records: readonly RunRecord[]): ModelKind => {
  const epochs = records.flatMap((r) => r.epochs);
  if (epochs.length > 0) return epochs.some((e) => e.train.accuracy === null) ? 'vae' : 'classifier';
  return model.toLowerCase().startsWith('vae') ? 'vae' : 'classifier';
};

const labelFor = (spec: RunSpec, ambiguous: boolean): string => {
  if (!ambiguous) return spec.optimizer.name;
  const o = Object.entries(spec.optimizer.overrides)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    // Sampled values carry 16 digits; 6 keep labels readable and still tell a sweep's trials apart.
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(6)) : v}`);
  const schedule = scheduleText(spec.optimizer.schedule);
  return `${spec.optimizer.name} (${[spec.optimizer.preset, ...o, ...(schedule !== '' ? schedule.split(',') : [])].join(' ')})`;
};

const bySeed = (a: Slot, b: Slot) => a.spec.seed - b.spec.seed;

const classNamesFor = (n: number, grid: readonly string[]): readonly string[] =>
  grid.length === n ? grid : FASHION_CLASSES.length === n ? FASHION_CLASSES : Array.from({ length: n }, (_, i) => String(i));

const buildModel = (model: string, modelSlots: readonly Slot[], grid: GridRecord | null): ModelReport => {
  const gridClasses = grid?.classNames ?? [];
  const records = modelSlots.flatMap((s) => (s.record ? [s.record] : []));
  const kind = modelKind(model, records);
  const target = modelTarget(model, grid, records);
  const groups = groupBy(modelSlots, (s) => configKey(s.spec));
  const namesCount = groupBy([...groups.values()], (g) => g[0]!.spec.optimizer.name);
  const raw = [...groups.values()].map((g) => {
    const group = [...g].sort(bySeed);
    const spec = group[0]!.spec;
    const recs = group.flatMap((s) => (s.record ? [s.record] : []));
    const runs = group.map((s) => summary(s, kind));
    const finals = recs.map((r) => finalValue(r, kind)).filter((v): v is number => v !== null && Number.isFinite(v));
    const value = stat(finals);
    // The study's value compares only with its own configuration: no overrides, the constant rate.
    const noOverrides = Object.keys(spec.optimizer.overrides).length === 0 && canonicalSchedule(spec.optimizer.schedule) === undefined;
    const study = noOverrides ? studyValue(model, spec.optimizer.name, spec.dataset) : null;
    return {
      group,
      recs,
      label: labelFor(spec, (namesCount.get(spec.optimizer.name)?.length ?? 0) > 1),
      optimizer: spec.optimizer.name,
      preset: spec.optimizer.preset,
      overrides: spec.optimizer.overrides,
      seeds: group.map((s) => s.spec.seed),
      runs,
      curve: curve(recs),
      value,
      study,
      failed: runs.filter((r) => r.status === 'failed').length,
      ci: ciHalfWidth(finals),
      timeToTarget: target === null ? null : seriesTimeToTarget(group, target),
    };
  });
  raw.sort((a, b) => compareByStudyOrder(STUDY_OPTIMIZERS)(a.optimizer, b.optimizer) || (a.label < b.label ? -1 : 1));
  const better = (a: number, b: number) => (kind === 'vae' ? a < b : a > b);
  let best: (typeof raw)[number] | null = null;
  for (const r of raw) if (r.value && (!best || better(r.value.mean, best.value!.mean))) best = r;
  const comparison = compareSeeds(kind, raw);
  // Seeds a paired test can use: the comparison's best wins over the plain best-by-mean (they agree
  // whenever every optimizer finished the same seeds).
  if (comparison) best = raw.find((r) => r.label === comparison.best) ?? best;
  const series: SeriesReport[] = raw.map((r) => {
    const cell: Cell = {
      value: r.value,
      study: r.study,
      diff: r.value && r.study !== null ? r.value.mean - r.study : null,
      best: r === best,
      status: cellStatus(r.runs, r.value, r.recs),
      failed: r.failed,
      ci: r.ci,
      tied: comparison ? (comparison.rows[r.label]?.tied ?? null) : null,
    };
    return {
      label: r.label,
      optimizer: r.optimizer,
      preset: r.preset,
      overrides: r.overrides,
      seeds: r.seeds,
      runs: r.runs,
      curve: r.curve,
      cell,
      timeToTarget: r.timeToTarget,
    };
  });
  let confusion: ConfusionReport | null = null;
  let vae: VaeReport | null = null;
  if (best) {
    const withConfusion = best.group.find((s) => s.record?.status === 'done' && s.record.confusion);
    if (withConfusion?.record?.confusion) {
      const matrix = withConfusion.record.confusion;
      confusion = {
        label: best.label,
        seed: withConfusion.spec.seed,
        runId: withConfusion.record.runId,
        matrix,
        classNames: classNamesFor(matrix.length, gridClasses),
      };
    }
    const withVae = best.group.find((s) => s.record?.vae);
    if (withVae?.record?.vae)
      vae = { label: best.label, seed: withVae.spec.seed, runId: withVae.record.runId, grids: withVae.record.vae };
  }
  return {
    model,
    kind,
    metric: kind === 'vae' ? 'loss' : 'accuracy',
    partial: series.some((s) => s.cell.status === 'partial' || s.cell.status === 'pending'),
    series,
    best: best?.label ?? null,
    confusion,
    vae,
    epochsPlanned: Math.max(0, ...modelSlots.map((s) => s.spec.epochs)),
    comparison,
    target,
    holdout: modelSlots[0]?.spec.holdout ?? null,
  };
};

/**
 * Turns a run directory's records into plain report data: curves, table cells, best runs' matrices and
 * grids. Runs of one protocol only are ranked (see oneProtocol); any others are left out with a warning.
 */
export const buildReport = (input: ReportSource): Report => {
  const source = oneProtocol(input);
  const all = slots(source);
  const gridClasses = source.grid?.classNames ?? [];
  const byModel = groupBy(all, (s) => s.spec.model);
  const models = [...byModel.keys()]
    .sort(compareByStudyOrder(STUDY_MODELS))
    .map((m) => buildModel(m, byModel.get(m)!, source.grid));
  const labels = [...new Set(models.flatMap((m) => m.series.map((s) => s.label)))].sort(
    compareByStudyOrder(STUDY_OPTIMIZERS),
  );
  return {
    // A bf16 run computes different numbers from the study's fp32: the title says so.
    title: `${source.grid?.title || source.grid?.task || 'optbench report'}${all.some((s) => s.spec.precision === 'bf16') ? ' (bf16 products)' : ''}`,
    task: source.grid?.task || null,
    createdAt: source.grid?.createdAt || null,
    classNames: gridClasses.length > 0 ? gridClasses : FASHION_CLASSES,
    partial: models.some((m) => m.partial),
    warnings: source.warnings,
    models,
    labels,
    timeToTarget: timeToTargetReport(
      models.flatMap((m) =>
        m.target == null
          ? []
          : [
              {
                workload: { model: m.model, target: m.target, holdout: m.holdout ?? null },
                series: m.series.flatMap((s) => (s.timeToTarget != null ? [{ label: s.label, ttt: s.timeToTarget }] : [])),
              },
            ],
      ),
      labels,
    ),
  };
};
