import { displayName } from './figures.js';
import type { PerformanceProfile } from './profile.js';
import type { SeriesTimeToTarget, TimeStat } from './time-to-target.js';
import type { Report } from './types.js';
import { targetText } from '../train/target.js';

/** Seconds as a table shows them: 3 significant digits. */
const secs = (s: number): string => (s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s.toFixed(2));

const epochs = (e: number): string => (Number.isInteger(e) ? String(e) : e.toFixed(1));

/** The mark of a series whose median seed never reached the target (finished or failed without it). */
export const NOT_REACHED = 'not reached';

const spread = (t: TimeStat, f: (x: number) => string): string =>
  t.min === null || t.max === null ? '' : t.min === t.max ? '' : ` [${f(t.min)}–${f(t.max)}]`;

/**
 * A series' time to target in one cell: the median training seconds over its seeds with the range of the
 * seeds that reached it, the median epoch, and how many seeds reached it; `not reached` when the median
 * seed did not (runs that never reach count as infinitely slow). `*`: some run is still to finish.
 */
export const tttText = (t: SeriesTimeToTarget): string => {
  const count = `${t.reached}/${t.n}`;
  const partial = t.partial ? '*' : '';
  if (!Number.isFinite(t.seconds.median)) return `${NOT_REACHED} (${count})${partial}`;
  return `${secs(t.seconds.median)} s${spread(t.seconds, secs)}, epoch ${epochs(t.epochs.median)}${spread(t.epochs, epochs)} (${count})${partial}`;
};

const scoreOf = (p: PerformanceProfile, label: string): number | null => p.rows.find((r) => r.solver === label)?.score ?? null;

/** The header of a workload's column: `FCNN: accuracy ≥ 0.88`. */
export const workloadTitle = (w: { readonly model: string; readonly target: Parameters<typeof targetText>[0] }): string =>
  `${displayName(w.model)}: ${targetText(w.target)}`;

/** Rows of the time-to-target table: one per optimizer, a cell per workload, then the two profile scores. */
export const tttRows = (r: Report): { readonly head: readonly string[]; readonly rows: readonly (readonly string[])[] } | null => {
  const t = r.timeToTarget;
  if (t == null) return null;
  const head = ['optimizer', ...t.workloads.map(workloadTitle), 'score (seconds)', 'score (epochs)'];
  const rows = t.bySeconds.rows.map((row) => [
    row.solver,
    ...t.workloads.map((w) => {
      const s = r.models.find((m) => m.model === w.model)?.series.find((x) => x.label === row.solver)?.timeToTarget;
      return s == null ? '' : tttText(s);
    }),
    scoreOf(t.bySeconds, row.solver)?.toFixed(3) ?? '',
    scoreOf(t.byEpochs, row.solver)?.toFixed(3) ?? '',
  ]);
  return { head, rows };
};

/** What the time-to-target table means, one sentence each. */
export const tttNotes = (r: Report): string[] => {
  const t = r.timeToTarget;
  if (t == null) return [];
  const held = [...new Set(t.workloads.map((w) => w.holdout))];
  const notes = [
    `Time to target: training seconds (evaluation excluded) until the first epoch whose metric on the ${held.length === 1 && held[0] != null ? `${held[0].toLocaleString('en-US')} ` : ''}held-out training images meets the model's target, never on the test set; median over seeds, [min–max] of the seeds that reached it, (reached/seeds). A seed that never reached it counts as infinitely slow, so the median is "${NOT_REACHED}" when half or more of the seeds did not.`,
    `Scores: AlgoPerf-style performance profiles over the ${t.workloads.length} model${t.workloads.length === 1 ? '' : 's'} with a target. For each optimizer, r = its median time / the fastest optimizer's on each model, rho(tau) = the fraction of models with r <= tau, and the score = the area under rho from tau = 1 to ${t.bySeconds.tauMax}, divided by ${t.bySeconds.tauMax - 1} (1: fastest on every model; 0: never within ${t.bySeconds.tauMax}x of the fastest). "seconds" ranks by training time, "epochs" by epochs (steps) to the target. See docs/time-to-target.md.`,
  ];
  if (t.bySeconds.unreached.length > 0)
    notes.push(`No optimizer reached the target on ${t.bySeconds.unreached.map(displayName).join(', ')}: ${t.bySeconds.unreached.length === 1 ? 'it counts' : 'they count'} for no one in the profiles.`);
  if (t.partial) notes.push('* some runs are still to finish: they count as not reached so far.');
  return notes;
};
