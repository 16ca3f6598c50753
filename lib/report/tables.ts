import { displayName } from './figures.js';
import type { Cell, ModelReport, Report } from './types.js';

const f2 = (x: number): string => x.toFixed(2);
const signed = (x: number): string => (x >= 0 ? '+' : '-') + Math.abs(x).toFixed(2);

/** The cell's own value: `89.74`, `89.74 ± 0.12 (n=3)`, or its state when it has none. */
export const valueText = (c: Cell): string => {
  if (!c.value) return c.status === 'pending' ? 'pending' : c.status === 'failed' ? 'failed' : '–';
  const v = c.value;
  const base = v.n > 1 ? `${f2(v.mean)} ± ${f2(v.std)} (n=${v.n})` : f2(v.mean);
  return c.status === 'partial' ? `${base}*` : base;
};

/** What goes beside the value: the study's number and the difference. */
export const studyText = (c: Cell): string =>
  c.study === null ? '' : c.diff === null ? `study ${f2(c.study)}` : `study ${f2(c.study)}, Δ ${signed(c.diff)}`;

export const metricName = (m: ModelReport): string => (m.kind === 'vae' ? 'final test loss' : 'final test accuracy (%)');

const cellFor = (m: ModelReport, label: string): Cell | null => m.series.find((s) => s.label === label)?.cell ?? null;

export const tableNotes = (r: Report): string[] => {
  const notes = [
    'Classifiers: final test accuracy in %; VAEs: final test loss (sum of squared errors + KL per image). Best per model marked ★ (max accuracy, min loss).',
    "Study: the single 50-epoch run of the original report; Δ = this run's value minus the study's.",
  ];
  if (r.models.some((m) => m.series.some((s) => s.seeds.length > 1))) notes.push('With several seeds: mean ± sample standard deviation over n seeds.');
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
      const v = c.best ? `**★ ${valueText(c)}**` : valueText(c);
      const s = studyText(c);
      return s ? `${v} (${s})` : v;
    });
    lines.push(`| ${[mdEscape(displayName(m.model)), metricName(m), ...cells].join(' | ')} |`);
  }
  return `${lines.join('\n')}\n\n${tableNotes(r)
    .map((n) => `- ${n}`)
    .join('\n')}\n`;
};

const csvField = (v: string | number | boolean | null): string => {
  const s = v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
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
] as const;

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
      ]
        .map(csvField)
        .join(',');
    }),
  );
  return `${[CSV_COLUMNS.join(','), ...rows].join('\n')}\n`;
};

export const texEscape = (s: string): string =>
  s.replace(/[\\{}&%$#_^~]/g, (c) =>
    c === '\\' ? '\\textbackslash{}' : c === '^' ? '\\textasciicircum{}' : c === '~' ? '\\textasciitilde{}' : `\\${c}`,
  ).replace(/</g, '\\textless{}').replace(/>/g, '\\textgreater{}');

const texValue = (c: Cell | null): string => {
  if (!c) return '';
  if (!c.value) return c.status;
  const v = c.value;
  const s = v.n > 1 ? `${f2(v.mean)} $\\pm$ ${f2(v.std)}` : f2(v.mean);
  const p = c.status === 'partial' ? `${s}*` : s;
  return c.best ? `\\textbf{${p}}` : p;
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
  return `${lines.join('\n')}\n`;
};
