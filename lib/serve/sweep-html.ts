/**
 * A directory's sweep (sweep.json) on the live page: the sweep report's own tables and figures
 * (lib/report/sweep), every trial with where it stands, and ASHA's rungs.
 */
import type { Figure } from '../report/figures.js';
import { esc, figureHtml } from '../report/html.js';
import { buildSweepReport, sweepBlockHtml, sweepFigures, sweepSections, type SweepReport, type SweepSearchReport } from '../report/sweep.js';
import { slug } from '../report/svg.js';
import type { AshaState } from '../sweep/asha.js';
import { formatPoint } from '../sweep/search.js';
import type { DirSnapshot } from './dir-read.js';

const f2 = (x: number | null): string => (x === null || !Number.isFinite(x) ? '' : x.toFixed(2));

const table = (head: readonly string[], rows: readonly (readonly string[])[], cls: string): string =>
  `<div class="table-wrap"><table class="${cls}"><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table></div>`;

/** Per rung: its epochs, how many trials reported there, how many are training towards it now, the best value. */
const rungsTable = (asha: AshaState, classifier: boolean): string => {
  const units = (x: number | null) => (x === null ? null : classifier ? 100 * x : x);
  const rows = asha.rungs.map((epochs, k) => {
    const reported = asha.trials.filter((t) => t.metrics.length > k);
    const values = reported.map((t) => units(t.metrics[k] ?? null)).filter((v): v is number => v !== null && Number.isFinite(v));
    const best = values.length === 0 ? null : classifier ? Math.max(...values) : Math.min(...values);
    return [String(k), String(epochs), String(reported.length), String(asha.trials.filter((t) => t.running === k).length), f2(best)];
  });
  return table(['rung', 'epochs', 'trials reported', 'training towards it', `best (${classifier ? 'accuracy %' : 'loss'})`], rows, 'rungs');
};

const trialsTable = (r: SweepReport, s: SweepSearchReport): string => {
  const rungOf = new Map((s.asha?.trials ?? []).map((t) => [t.id, t.metrics.length - 1]));
  const rows = s.trials.map((t) => [
    String(t.trial + 1),
    formatPoint(t.point),
    t.status,
    `${t.epochs}/${s.config.epochs}`,
    f2(t.value),
    ...(s.asha ? [String(rungOf.get(t.trial) ?? '')] : []),
  ]);
  const head = ['trial', 'configuration', 'status', 'epochs', `validation ${r.classifier ? 'accuracy (%)' : 'loss'}`, ...(s.asha ? ['highest rung'] : [])];
  return table(head, rows, 'trials');
};

/** A figure renamed so that its ids stay apart from the other directories' on the page. */
const prefixed = (f: Figure, prefix: string): Figure => ({ ...f, name: `${prefix}${f.name}` });

/** The sweep's section of a directory, or '' when it has no sweep.json. */
export const sweepHtml = (snap: DirSnapshot, prefix: string): string => {
  if (snap.sweep === null) return '';
  const r = buildSweepReport(snap.sweep, snap.runs.map((x) => x.record));
  const figures = sweepFigures(r).map((f) => prefixed(f, prefix));
  const figs = (fs: readonly Figure[]) => (fs.length > 0 ? `<div class="figures">${fs.map(figureHtml).join('\n')}</div>` : '');
  const parts = sweepSections(r);
  const owned = (s: SweepSearchReport) => figures.filter((f) => f.name.startsWith(`${prefix}sweep-${slug(`${s.config.model}-${s.config.optimizer}`)}-`));
  const loose = figures.filter((f) => !r.searches.some((s) => owned(s).includes(f)));
  const searches = r.searches.map((s, i) => {
    const part = parts.find((p) => p.id === slug(`${s.config.model}-${s.config.optimizer}`));
    return `<section class="search" id="${esc(prefix)}search-${i}">
<h4>${esc(part?.title ?? `${s.config.model} / ${s.config.optimizer}: ${s.config.strategy} search`)}</h4>
${part ? part.blocks.map(sweepBlockHtml).join('\n') : ''}
${s.asha ? `<h5>ASHA rungs</h5>\n${rungsTable(s.asha, r.classifier)}` : ''}
<details${s.trials.length <= 50 ? ' open' : ''}><summary>Every trial (${s.trials.length})</summary>
${trialsTable(r, s)}
</details>
${figs(owned(s))}
</section>`;
  });
  const single = parts.find((p) => p.id === null);
  return `<h3>${esc(r.kind === 'tune' ? 'Tune' : 'Sweep')}: ${esc(r.title)}</h3>
${single ? single.blocks.map(sweepBlockHtml).join('\n') : ''}
${figs(loose)}
${searches.join('\n')}`;
};
