import { csvFormatRows } from 'd3-dsv';
import { displayName } from './figures.js';
import { comparisonSentence } from './seeds.js';
import type { Cell, ModelReport, Report } from './types.js';
import { tttNotes, tttRows } from './ttt-tables.js';
import type { PerformanceProfile } from './profile.js';
import type { SeriesTimeToTarget } from './time-to-target.js';

const f2 = (x: number): string => x.toFixed(2);
const signed = (x: number): string => (x >= 0 ? '+' : '-') + Math.abs(x).toFixed(2);

/** `±` half-width of the 95 % t interval over seeds (the standard deviation when it is unknown). */
const spread = (c: Cell): number => c.ci ?? c.value?.std ?? 0;

/** The cell's own value: `89.74`, `89.74 ± 0.12 (n=3)` (mean ± 95 % CI half-width), or its state when it has none. */
export const valueText = (c: Cell): string => {
  if (!c.value) return c.status === 'pending' ? 'pending' : c.status === 'failed' ? 'failed' : c.status === 'unevaluated' ? 'not evaluated' : '–';
  const v = c.value;
  const base = v.n > 1 ? `${f2(v.mean)} ± ${f2(spread(c))} (n=${v.n})` : f2(v.mean);
  return c.status === 'partial' ? `${base}*` : base;
};

/** The mark of an optimizer statistically tied with the best (the best itself carries ★). */
export const TIED_MARK = '≈';

/** True for a non-best cell that the paired test could not tell from the best. */
export const tiedNotBest = (c: Cell): boolean => c.tied === true && !c.best;

/** What goes beside the value: the study's number and the difference. */
export const studyText = (c: Cell): string =>
  c.study === null ? '' : c.diff === null ? `study ${f2(c.study)}` : `study ${f2(c.study)}, Δ ${signed(c.diff)}`;

export const metricName = (m: ModelReport): string => (m.kind === 'vae' ? 'final test loss' : 'final test accuracy (%)');

const cellFor = (m: ModelReport, label: string): Cell | null => m.series.find((s) => s.label === label)?.cell ?? null;

export const tableNotes = (r: Report): string[] => {
  const notes = [
    `Classifiers: final test accuracy in %; VAEs: final test loss (sum of squared errors + KL per image). Best per model marked ★ (max accuracy, min loss)${
      r.partial ? ': in a partial report, the best of the values so far, which the pending and partial cells may still change' : ''
    }.`,
  ];
  // The study's values are a reference only for its own data set (Fashion-MNIST).
  if (r.models.some((m) => m.series.some((s) => s.cell.study !== null)))
    notes.push("Study: the single 50-epoch run of the original report; Δ = this run's value minus the study's.");
  if (r.models.some((m) => m.series.some((s) => s.seeds.length > 1)))
    notes.push(
      'With several seeds: mean ± half-width of the 95 % Student t confidence interval over n seeds (the CSV also has the standard deviation and the interval).',
    );
  if (r.models.some((m) => m.comparison !== null))
    notes.push(
      `${TIED_MARK} statistically tied with the best: each optimizer is compared with the best on the per-seed differences (paired, as optimizers share initial weights and batch order within a seed), with Holm's correction across the comparisons; ${TIED_MARK} means not significantly different at alpha = 0.05. A winner is named only when every other optimizer is significantly worse.`,
    );
  for (const m of r.models)
    if (m.comparison) notes.push(`${displayName(m.model)}: ${comparisonSentence(m.comparison)} Test: ${m.comparison.testReason}.`);
  if (r.partial) notes.push('* partial: some runs of this cell are still training or stopped early; the value is their latest epoch.');
  return notes;
};

const mdEscape = (s: string): string =>
  s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/([*_`[\]])/g, '\\$1');

/** Models as rows, optimizers as columns; each cell: value, and the study's value with the difference. */
export const toMarkdown = (r: Report): string => {
  const head = ['model', 'metric', ...r.labels.map(mdEscape)];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`];
  for (const m of r.models) {
    const cells = r.labels.map((l) => {
      const c = cellFor(m, l);
      if (!c) return '';
      const v = c.best ? `**★ ${valueText(c)}**` : tiedNotBest(c) ? `${TIED_MARK} ${valueText(c)}` : valueText(c);
      const s = studyText(c);
      return s ? `${v} (${s})` : v;
    });
    lines.push(`| ${[mdEscape(displayName(m.model)), metricName(m), ...cells].join(' | ')} |`);
  }
  // Notes carry optimizer names (from run files): HTML-significant characters stay text.
  const notes = (ns: readonly string[]) => ns.map((n) => `- ${n.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}`).join('\n');
  const ttt = tttRows(r);
  const tttSection =
    ttt === null
      ? ''
      : `\n## Time to target\n\n| ${ttt.head.map(mdEscape).join(' | ')} |\n| ${ttt.head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |\n${ttt.rows
          .map((row) => `| ${row.map(mdEscape).join(' | ')} |`)
          .join('\n')}\n\n${notes(tttNotes(r))}\n`;
  return `${lines.join('\n')}\n\n${notes(tableNotes(r))}\n${tttSection}`;
};

export const CSV_COLUMNS = [
  'model',
  'kind',
  'metric',
  'optimizer',
  'preset',
  'label',
  'mean',
  'std',
  'min',
  'max',
  'n',
  'study',
  'diff',
  'best',
  'status',
  'failed',
  'epochs_done',
  'epochs_planned',
  'ci95_half',
  'ci95_low',
  'ci95_high',
  'tied_with_best',
  'verdict',
  'test',
  'p',
  'p_holm',
  'winner',
  'target_metric',
  'target',
  'holdout',
  'ttt_reached',
  'ttt_seeds',
  'ttt_median_s',
  'ttt_min_s',
  'ttt_max_s',
  'ttt_median_epoch',
  'ttt_min_epoch',
  'ttt_max_epoch',
  'ttt_partial',
  'profile_ratio_s',
  'profile_score_s',
  'profile_ratio_epochs',
  'profile_score_epochs',
] as const;

/** A time for the CSV: Infinity (never reached) as `inf`, as spreadsheets and pandas read it. */
const csvTime = (x: number | null | undefined): number | string | null => (x === null || x === undefined ? null : Number.isFinite(x) ? x : 'inf');

/** The time-to-target columns of a model's row for one optimizer (empty without a target). */
const tttColumns = (r: Report, m: ModelReport, label: string, t: SeriesTimeToTarget | null): (string | number | boolean | null)[] => {
  if (t === null || m.target == null) return Array.from({ length: 16 }, () => null);
  const w = r.timeToTarget?.workloads.findIndex((x) => x.model === m.model) ?? -1;
  const row = (p: PerformanceProfile | undefined) => p?.rows.find((x) => x.solver === label);
  const seconds = row(r.timeToTarget?.bySeconds);
  const epochs = row(r.timeToTarget?.byEpochs);
  return [
    m.target.metric,
    m.target.goal,
    m.holdout ?? null,
    t.reached,
    t.n,
    csvTime(t.seconds.median),
    t.seconds.min,
    t.seconds.max,
    csvTime(t.epochs.median),
    t.epochs.min,
    t.epochs.max,
    t.partial,
    csvTime(w >= 0 ? seconds?.ratios[w] : null),
    seconds?.score ?? null,
    csvTime(w >= 0 ? epochs?.ratios[w] : null),
    epochs?.score ?? null,
  ];
};

/** One row per model and optimizer (tidy), for spreadsheets and scripts. */
export const toCsv = (r: Report): string => {
  const rows = r.models.flatMap((m) =>
    m.series.map((s) => {
      const v = s.cell.value;
      return [
        m.model,
        m.kind,
        m.metric,
        s.optimizer,
        s.preset,
        s.label,
        v?.mean ?? null,
        v?.std ?? null,
        v?.min ?? null,
        v?.max ?? null,
        v?.n ?? 0,
        s.cell.study,
        s.cell.diff,
        s.cell.best,
        s.cell.status,
        s.cell.failed,
        Math.min(...s.runs.map((x) => x.epochsDone)),
        Math.max(...s.runs.map((x) => x.epochsPlanned)),
        s.cell.ci,
        v && s.cell.ci !== null ? v.mean - s.cell.ci : null,
        v && s.cell.ci !== null ? v.mean + s.cell.ci : null,
        s.cell.tied,
        m.comparison?.rows[s.label]?.verdict ?? null,
        m.comparison?.test ?? null,
        m.comparison?.rows[s.label]?.p ?? null,
        m.comparison?.rows[s.label]?.pAdjusted ?? null,
        m.comparison ? m.comparison.winner === s.label : null,
        ...tttColumns(r, m, s.label, s.timeToTarget ?? null),
      ].map((v) => String(v ?? ''));
    }),
  );
  return `${csvFormatRows([[...CSV_COLUMNS], ...rows])}\n`;
};

const texEscape = (s: string): string =>
  s.replace(/[\\{}&%$#_^~]/g, (c) =>
    c === '\\' ? '\\textbackslash{}' : c === '^' ? '\\textasciicircum{}' : c === '~' ? '\\textasciitilde{}' : `\\${c}`,
  ).replace(/</g, '\\textless{}').replace(/>/g, '\\textgreater{}');

const texValue = (c: Cell | null): string => {
  if (!c) return '';
  if (!c.value) return c.status;
  const v = c.value;
  const s = v.n > 1 ? `${f2(v.mean)} $\\pm$ ${f2(spread(c))}` : f2(v.mean);
  const p = c.status === 'partial' ? `${s}*` : s;
  return c.best ? `\\textbf{${p}}` : tiedNotBest(c) ? `$\\approx$\\,${p}` : p;
};

const texStudy = (c: Cell | null): string =>
  !c || c.study === null ? '' : `{\\scriptsize ${f2(c.study)}${c.diff === null ? '' : ` (${signed(c.diff)})`}}`;

/** A booktabs table: per model a row of values, and beneath it the study's values with the differences. */
export const toLatex = (r: Report): string => {
  const cols = r.labels.map((l) => texEscape(l));
  const lines = [
    '% Requires \\usepackage{booktabs}',
    `\\begin{tabular}{ll${'r'.repeat(cols.length)}}`,
    '\\toprule',
    `Model & Metric & ${cols.join(' & ')} \\\\`,
    '\\midrule',
  ];
  for (const m of r.models) {
    const cells = r.labels.map((l) => cellFor(m, l));
    lines.push(`${texEscape(displayName(m.model))} & ${m.kind === 'vae' ? 'test loss' : 'test acc.\\ (\\%)'} & ${cells.map(texValue).join(' & ')} \\\\`);
    if (cells.some((c) => c?.study != null)) lines.push(`& {\\scriptsize study ($\\Delta$)} & ${cells.map(texStudy).join(' & ')} \\\\`);
  }
  lines.push('\\bottomrule', '\\end{tabular}');
  if (r.models.some((m) => m.comparison !== null || m.series.some((s) => s.cell.ci !== null)))
    lines.push(
      '% Bold: best mean; $\\approx$: statistically tied with the best (paired test, Holm-corrected, alpha 0.05);',
      '% with several seeds, mean $\\pm$ half-width of the 95 % Student t interval.',
    );
  return `${lines.join('\n')}\n`;
};
