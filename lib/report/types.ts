import type { VaeGrids } from '../train/events.js';
import type { GridRecord, RunRecord, RunStatus } from '../train/record.js';
import type { Target } from '../train/target.js';
import type { SeriesTimeToTarget, TimeToTargetReport } from './time-to-target.js';

/** What a report is built from: the files of a run directory (or, later, the store). */
export interface ReportSource {
  readonly grid: GridRecord | null;
  readonly runs: readonly RunRecord[];
  /** Files that could not be read (e.g. a JSON file still being written), one sentence each. */
  readonly warnings: readonly string[];
}

/** Summary statistics over seeds; `std` is the sample standard deviation (0 for a single seed). */
export interface Stat {
  readonly mean: number;
  readonly std: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export interface CurvePoint {
  readonly epoch: number;
  /** Cumulative training wall-clock seconds at the end of this epoch. */
  readonly seconds: Stat;
  readonly trainLoss: Stat;
  /** Null for epochs that were not evaluated. */
  readonly testLoss: Stat | null;
  readonly trainAccuracy: Stat | null;
  readonly testAccuracy: Stat | null;
}

/** `unevaluated`: every run finished, none was evaluated (a pipeline without `evaluate`). */
export type CellStatus = 'done' | 'partial' | 'failed' | 'pending' | 'unevaluated';

/** One cell of the final-metric table: accuracy in % for classifiers, test loss for VAEs. */
export interface Cell {
  readonly value: Stat | null;
  /** The study's single-run value for this model and optimizer, when it has one. */
  readonly study: number | null;
  /** value.mean - study. */
  readonly diff: number | null;
  readonly best: boolean;
  readonly status: CellStatus;
  /** Runs of this cell that ended in failure (e.g. diverged). */
  readonly failed: number;
  /** Half-width of the 95 % Student t interval of the mean over seeds; null with fewer than two values. */
  readonly ci: number | null;
  /**
   * The paired comparison against the model's best (see SeedComparison): true for the best and for the
   * optimizers not significantly different from it; null when no comparison was possible (one seed, ...).
   */
  readonly tied: boolean | null;
}

export interface RunSummary {
  readonly runId: string;
  readonly seed: number;
  readonly status: RunStatus | 'pending';
  readonly epochsDone: number;
  readonly epochsPlanned: number;
  readonly error: string | null;
  /** The final metric of a finished run (accuracy in %, or test loss); null otherwise. */
  readonly value: number | null;
}

/** One optimizer configuration trained on one model, over all its seeds. */
export interface SeriesReport {
  /** The name shown in legends and tables: the optimizer's name, plus preset/overrides when ambiguous. */
  readonly label: string;
  readonly optimizer: string;
  readonly preset: string;
  readonly overrides: Readonly<Record<string, number | boolean>>;
  readonly seeds: readonly number[];
  readonly runs: readonly RunSummary[];
  readonly curve: readonly CurvePoint[];
  readonly cell: Cell;
  /** When its seeds first reached the model's target (null or absent: the model has none). */
  readonly timeToTarget?: SeriesTimeToTarget | null;
}

export interface ConfusionReport {
  readonly label: string;
  readonly seed: number;
  readonly runId: string;
  /** Rows: predicted class, columns: true class. */
  readonly matrix: readonly (readonly number[])[];
  readonly classNames: readonly string[];
}

export interface VaeReport {
  readonly label: string;
  readonly seed: number;
  readonly runId: string;
  readonly grids: VaeGrids;
}

export type ModelKind = 'classifier' | 'vae';

export interface ModelReport {
  readonly model: string;
  readonly kind: ModelKind;
  /** What the table reports: final test accuracy in % (classifiers) or final test loss (VAEs). */
  readonly metric: 'accuracy' | 'loss';
  readonly partial: boolean;
  readonly series: readonly SeriesReport[];
  /** Label of the best series (max accuracy / min loss), null while no series has a value. */
  readonly best: string | null;
  readonly confusion: ConfusionReport | null;
  readonly vae: VaeReport | null;
  /** Epochs the runs were planned for (the largest), to compare with the study's 50. */
  readonly epochsPlanned: number;
  /** Each optimizer against the best on per-seed differences; null with fewer than two optimizers or seeds. */
  readonly comparison: SeedComparison | null;
  /** The held-out target its runs were judged against (grid.json's), null or absent when it had none. */
  readonly target?: Target | null;
  /** Training images its runs hold out to judge the target on. */
  readonly holdout?: number | null;
}

export type SeedVerdict = 'best' | 'tied' | 'worse' | 'inconsistent';

/** One optimizer against the model's best in a SeedComparison. */
export interface SeedComparisonRow {
  readonly verdict: SeedVerdict;
  readonly tied: boolean;
  /** Mean per-seed difference, positive when the best is better (accuracy points or loss). */
  readonly gap: number;
  /** Two-sided p-value of the paired test and its Holm-adjusted value; null for the best. */
  readonly p: number | null;
  readonly pAdjusted: number | null;
  readonly detail: string;
}

/**
 * The paired comparison of a model's optimizers over the seeds that all of them finished: the best by mean,
 * each other optimizer against it (Wilcoxon signed-rank or paired t-test, Holm's correction across the
 * comparisons), and a winner only when every other optimizer is significantly worse.
 */
export interface SeedComparison {
  readonly best: string;
  readonly winner: string | null;
  /** The seeds used: those finished by every compared optimizer. */
  readonly seeds: readonly number[];
  readonly test: 'wilcoxon' | 't' | 'none';
  readonly testReason: string;
  readonly alpha: number;
  /** Labels compared, and labels left out because they finished none of those seeds. */
  readonly compared: readonly string[];
  readonly excluded: readonly string[];
  readonly rows: Readonly<Record<string, SeedComparisonRow>>;
}

export interface Report {
  readonly title: string;
  readonly task: string | null;
  readonly createdAt: string | null;
  readonly classNames: readonly string[];
  /** True when some run is still training, stopped early or not started yet. */
  readonly partial: boolean;
  readonly warnings: readonly string[];
  readonly models: readonly ModelReport[];
  /** Every series label in the report, in legend order; colours are keyed by these. */
  readonly labels: readonly string[];
  /** Times to target and the performance profiles across the models that have a target; null or absent when none has. */
  readonly timeToTarget?: TimeToTargetReport | null;
}

export type Format = 'html' | 'md' | 'png' | 'svg' | 'csv' | 'tex';
export const FORMATS: readonly Format[] = ['html', 'md', 'png', 'svg', 'csv', 'tex'];

/** A file the report wrote. */
export interface Artifact {
  readonly kind: Format;
  readonly path: string;
  readonly bytes: number;
}
