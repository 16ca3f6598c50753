import { formatPoint, formatValue } from '../sweep/search.js';
import { displayName } from './figures.js';
import { slug } from './svg.js';
import type { FinalReport, SweepReport, SweepSearchReport, SweepTrialRow } from './sweep-build.js';

/** A table as data, so that Markdown and HTML are drawn from the same rows. */
export interface Table {
  readonly head: readonly string[];
  readonly align: readonly ('left' | 'right')[];
  readonly rows: readonly (readonly string[])[];
}

export type Block =
  | { readonly heading: string }
  | { readonly paragraph: string }
  | { readonly table: Table }
  | { readonly notes: readonly string[] };

/** A part of the sweep report: the tune table, or one search. `id` is null for the tune's single part. */
export interface SweepSection {
  readonly id: string | null;
  readonly title: string;
  readonly blocks: readonly Block[];
}

const f2 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(2));
const meanCi = (f: FinalReport | undefined): string =>
  !f || !f.summary ? (f ? `pending (0/${f.planned})` : '–') : f.ci !== null ? `${f2(f.summary.mean)} ± ${f2(f.ci)} (n=${f.summary.n})` : `${f2(f.summary.mean)} (n=1)`;

const better = (r: SweepReport) => (a: SweepTrialRow, b: SweepTrialRow) =>
  (b.status === 'completed' ? 1 : 0) - (a.status === 'completed' ? 1 : 0) ||
  (r.classifier ? (b.value ?? -Infinity) - (a.value ?? -Infinity) : (a.value ?? Infinity) - (b.value ?? Infinity)) ||
  a.trial - b.trial;

/** The top `k` trials of a search, best first (completed trials before stopped ones). */
export const bestConfigurations = (r: SweepReport, s: SweepSearchReport, k = 5): SweepTrialRow[] => [...s.trials].filter((t) => t.value !== null).sort(better(r)).slice(0, k);

const unit = (r: SweepReport): string => (r.classifier ? 'accuracy (%)' : 'loss');

/** The id of a search's section (and the prefix of its figures' names). */
export const searchId = (s: SweepSearchReport): string => slug(`${s.config.model}-${s.config.optimizer}`);

const tuneSection = (r: SweepReport): SweepSection => {
  const budget = r.searches[0]?.config.trials ?? 0;
  return {
    id: null,
    title: r.title,
    blocks: [
      {
        paragraph: `Every optimizer got the same ${budget}-trial search over its learning rate (log-uniform ${r.searches[0]?.config.space.map((d) => (d.kind === 'log' || d.kind === 'uniform' ? `${d.lo}..${d.hi}` : '')).join('')}), chosen on the held-out training images; both settings then retrained with the same seeds on all training images and evaluated on the test set.`,
      },
      {
        table: {
          head: ['optimizer', `stock defaults: test ${unit(r)}`, 'tuned lr', `tuned: held-out ${unit(r)}`, `tuned with budget ${budget}: test ${unit(r)}`],
          align: ['left', 'right', 'right', 'right', 'right'],
          rows: r.searches.map((s) => {
            const def = r.finals.find((f) => f.optimizer === s.config.optimizer && f.role === 'default');
            const tuned = r.finals.find((f) => f.optimizer === s.config.optimizer && f.role === 'tuned');
            const lr = s.best === null ? null : s.trials[s.best]!.point.lr;
            return [s.config.optimizer, meanCi(def), lr === undefined || lr === null ? '–' : formatValue(lr), f2(s.heldOut), meanCi(tuned)];
          }),
        },
      },
      { notes: ['Test values: mean ± half-width of the 95 % Student t interval over seeds.'] },
    ],
  };
};

const searchSection = (r: SweepReport, s: SweepSearchReport): SweepSection => {
  const c = s.config;
  const tuned = r.finals.find((f) => f.optimizer === c.optimizer && f.role === 'tuned');
  return {
    id: searchId(s),
    title: `${displayName(c.model)} / ${c.optimizer}: ${c.strategy} search, ${c.trials} trials`,
    blocks: [
      {
        paragraph: `Space: ${c.space.map((d) => (d.kind === 'choice' ? `${d.name}=choice(${d.values.join(',')})` : `${d.name}=${d.kind}(${d.lo},${d.hi})`)).join(', ')}; ${c.epochs} epochs${c.strategy === 'asha' ? ` at most (ASHA rungs ${s.asha?.rungs.join(', ') ?? ''}, eta ${c.eta})` : ''}; validated on the last ${c.holdout} training images, never on the test set.`,
      },
      { heading: 'Best configurations' },
      {
        table: {
          head: ['rank', 'trial', ...c.space.map((d) => d.name), `validation ${unit(r)}`, 'epochs', 'status'],
          align: ['right', 'right', ...c.space.map(() => 'right' as const), 'right', 'right', 'left'],
          rows: bestConfigurations(r, s).map((t, i) => [String(i + 1), String(t.trial + 1), ...c.space.map((d) => formatValue(t.point[d.name] ?? NaN)), f2(t.value), String(t.epochs), t.status]),
        },
      },
      { heading: 'Chosen configuration' },
      s.best === null
        ? { paragraph: 'No trial completed its full budget: nothing was chosen.' }
        : {
            table: {
              head: ['configuration', `held-out ${unit(r)} (search)`, `test ${unit(r)} (retrained on all training images)`],
              align: ['left', 'right', 'right'],
              rows: [[formatPoint(s.trials[s.best]!.point), f2(s.heldOut), meanCi(tuned)]],
            },
          },
      { notes: ['Test: mean ± half-width of the 95 % Student t interval over seeds.'] },
    ],
  };
};

/** The sweep report's parts: tune's side-by-side table, or per search its best configurations and choice. */
export const sweepSections = (r: SweepReport): SweepSection[] => (r.kind === 'tune' ? [tuneSection(r)] : r.searches.map((s) => searchSection(r, s)));

const mdRow = (cells: readonly string[]): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;

const blockMarkdown = (b: Block): string[] => {
  if ('heading' in b) return [`### ${b.heading}`, ''];
  if ('paragraph' in b) return [b.paragraph, ''];
  if ('table' in b) return [mdRow(b.table.head), mdRow(b.table.align.map((a) => (a === 'right' ? '---:' : '---'))), ...b.table.rows.map(mdRow), ''];
  return [...b.notes.map((n) => `- ${n}`), ''];
};

/** The sweep's tables in Markdown: best configurations, chosen one with held-out and test figures; tune's side by side. */
export const sweepMarkdown = (r: SweepReport): string => {
  const out: string[] = [`# ${r.title}`, ''];
  for (const s of sweepSections(r)) {
    if (s.id !== null) out.push(`## ${s.title}`, '');
    out.push(...s.blocks.flatMap(blockMarkdown));
  }
  return `${out.join('\n')}\n`;
};
