/**
 * The report of the runs a page has chosen: the static report's own data (buildReport), figures
 * (reportFigures: D3 on the server) and HTML parts (reportParts), so that the live page and report.html
 * show the same tables and figures.
 */
import { runId } from '../config/spec.js';
import { buildReport } from '../report/build.js';
import { reportFigures } from '../report/figures.js';
import { esc, reportParts } from '../report/html.js';
import type { ModelReport, Report, ReportSource, SeriesReport } from '../report/types.js';
import type { DirSnapshot } from './dir-read.js';
import { isSelected, type Selection } from './selection.js';

/**
 * The most configurations a figure draws: a legend of a hundred lines says nothing. With more, the figures
 * draw the best ones (the tables still list every one) and say how to draw others.
 */
export const MAX_DRAWN = 12;

/** The directory's records as the report reads them, restricted to the chosen runs (planned runs included). */
export const selectedSource = (snap: DirSnapshot, sel: Selection): ReportSource => ({
  grid: snap.grid === null ? null : { ...snap.grid, specs: snap.grid.specs.filter((s) => isSelected(sel, runId(s))) },
  runs: snap.runs.filter((r) => isSelected(sel, r.row.runId)).map((r) => r.record),
  warnings: [],
});

const ranked = (m: ModelReport): SeriesReport[] => {
  const sign = m.kind === 'vae' ? 1 : -1;
  const valued = m.series.filter((s) => s.cell.value !== null).sort((a, b) => sign * (a.cell.value!.mean - b.cell.value!.mean));
  return [...valued, ...m.series.filter((s) => s.cell.value === null)];
};

/** The report with at most MAX_DRAWN series per model, the best kept, in the report's own order. */
const drawable = (r: Report): Report => ({
  ...r,
  models: r.models.map((m) => {
    if (m.series.length <= MAX_DRAWN) return m;
    const keep = new Set(ranked(m).slice(0, MAX_DRAWN));
    return { ...m, series: m.series.filter((s) => keep.has(s)) };
  }),
});

const trimmedNote = (m: ModelReport): string =>
  m.series.length > MAX_DRAWN
    ? `<p class="notes">The figures of ${esc(m.model)} draw the ${MAX_DRAWN} best of its ${m.series.length} configurations; untick runs in the table above to draw others.</p>`
    : '';

/**
 * The report part of a directory's section for the runs `sel` chooses: summary, overview table, and per
 * model its table and figures (curves per epoch and per training time, train and test; the best run's
 * confusion matrix or VAE grids). `prefix` keeps its ids apart from the other directories' on the page.
 */
export const reportHtml = (snap: DirSnapshot, sel: Selection, prefix: string): string => {
  const source = selectedSource(snap, sel);
  if (source.runs.length === 0 && (source.grid?.specs.length ?? 0) === 0)
    return `<p class="notes">No run is chosen: tick runs in the table above to draw them.</p>`;
  const report = buildReport(source);
  const figures = reportFigures(drawable(report), { accuracyOverTime: true, idPrefix: prefix });
  const parts = reportParts(report, figures, prefix);
  // One section per model, then the time to target across them when the models have targets.
  const sections = parts.sections.map((s, i) => {
    const m = report.models[i];
    return `<section class="model" id="${esc(s.id)}">
<h3>${esc(s.title)}</h3>
${m === undefined ? '' : trimmedNote(m)}${s.body}
</section>`;
  });
  // The report's notice says to run the report again once training ends: this page follows it instead, and
  // each model's section still says which of its runs are partial.
  return `<div class="report-summary">${parts.summary}</div>
${sections.join('\n')}`;
};
