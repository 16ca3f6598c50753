import { displayName, type Figure } from './figures.js';
import { colorFor } from './palette.js';
import { STUDY_EPOCHS } from './study.js';
import { slug } from './svg.js';
import { comparisonSentence } from './seeds.js';
import { metricName, studyText, tableNotes, TIED_MARK, tiedNotBest, valueText } from './tables.js';
import type { ModelReport, Report, SeriesReport } from './types.js';
import { tttNotes, tttRows } from './ttt-tables.js';

/** Escapes text for HTML content and quoted attributes. */
export const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** A colour swatch's style attribute (with TILE_STYLE, the only styles a report's markup carries). */
export const swatchStyle = (colour: string): string => `background:${colour}`;

const units = (m: ModelReport, x: number): string => (m.kind === 'vae' ? x.toFixed(2) : `${x.toFixed(2)} %`);

const ranked = (m: ModelReport): SeriesReport[] =>
  m.series
    .filter((s) => s.cell.value)
    .sort((a, b) => (m.kind === 'vae' ? 1 : -1) * (a.cell.value!.mean - b.cell.value!.mean));

const runCounts = (m: ModelReport) => {
  const runs = m.series.flatMap((s) => s.runs);
  return {
    running: runs.filter((r) => r.status === 'running').length,
    pending: runs.filter((r) => r.status === 'pending').length,
    interrupted: runs.filter((r) => r.status === 'interrupted').length,
    failed: runs.filter((r) => r.status === 'failed').length,
    total: runs.length,
  };
};

const progressText = (m: ModelReport): string => {
  const c = runCounts(m);
  const parts = [
    c.running > 0 ? `${c.running} run${c.running > 1 ? 's' : ''} still training` : '',
    c.pending > 0 ? `${c.pending} not started` : '',
    c.interrupted > 0 ? `${c.interrupted} interrupted (run the same command again to resume)` : '',
    c.failed > 0 ? `${c.failed} failed` : '',
  ].filter((p) => p !== '');
  return parts.join(', ');
};

/**
 * One sentence per model: who won, by how much, and how that compares with the study. In a partial
 * report no one has won yet: the best so far "leads so far", since the runs still to come may pass it.
 */
export const summarySentence = (m: ModelReport): string => {
  const name = displayName(m.model);
  const r = ranked(m);
  if (r.length === 0) return `${name}: no results yet.`;
  const c = m.comparison;
  if (c !== null && c.seeds.length > 1) {
    const best = m.series.find((x) => x.label === c.best)!;
    const v = best.cell.value!;
    const ci = best.cell.ci !== null ? ` ± ${best.cell.ci.toFixed(2)} (95 % CI, n = ${v.n})` : '';
    const what = m.kind === 'vae' ? 'final test loss' : 'final test accuracy';
    return `${name}: best mean ${what} ${units(m, v.mean)}${ci} with ${c.best}. ${comparisonSentence(c)}${m.partial ? ` Partial: ${progressText(m)}.` : ''}`;
  }
  const [first, second] = r;
  const v = first!.cell.value!;
  const what = m.kind === 'vae' ? 'a final test loss of' : 'a final test accuracy of';
  let s = `${name}: ${first!.label} ${m.partial ? 'leads so far' : 'won'} with ${what} ${units(m, v.mean)}`;
  if (second) {
    const gap = Math.abs(v.mean - second.cell.value!.mean);
    s += `, ${m.kind === 'vae' ? gap.toFixed(2) : `${gap.toFixed(2)} percentage points`} ${m.kind === 'vae' ? 'lower than' : 'ahead of'} ${second.label} (${units(m, second.cell.value!.mean)})`;
  }
  s += '.';
  if (Math.max(...m.series.map((x) => x.seeds.length)) <= 1)
    s += ' One seed per optimizer, so no difference is tested: run with --seeds 5 or more to compare.';
  const studied = m.series.filter((x) => x.cell.study !== null);
  if (studied.length > 0) {
    const sb = [...studied].sort((a, b) => (m.kind === 'vae' ? 1 : -1) * (a.cell.study! - b.cell.study!))[0]!;
    s +=
      sb.label === first!.label
        ? ` The study's winner was the same (${units(m, sb.cell.study!)}).`
        : ` The study's winner was ${sb.label} (${units(m, sb.cell.study!)}).`;
  }
  if (m.partial) s += ` Partial: ${progressText(m)}.`;
  return s;
};

const statusBadge = (m: ModelReport): string =>
  m.partial ? `<p class="partial">Partial results: ${esc(progressText(m))}; values are from the latest completed epoch.</p>` : '';

const overviewTable = (r: Report, idPrefix: string): string => {
  const head = r.labels.map((l) => `<th scope="col"><span class="swatch" style="${swatchStyle(colorFor(l))}"></span>${esc(l)}</th>`).join('');
  const rows = r.models
    .map((m) => {
      const cells = r.labels
        .map((l) => {
          const c = m.series.find((s) => s.label === l)?.cell;
          if (!c) return '<td></td>';
          const st = studyText(c);
          const mark = c.best
            ? '<span class="star" aria-label="best">★</span> '
            : tiedNotBest(c)
              ? `<span class="tied" aria-label="tied with the best" title="statistically tied with the best">${TIED_MARK}</span> `
              : '';
          return `<td class="${c.best ? 'best ' : ''}${tiedNotBest(c) ? 'tied ' : ''}status-${c.status}">${mark}${esc(valueText(c))}${st ? `<br><small>${esc(st)}</small>` : ''}</td>`;
        })
        .join('');
      return `<tr><th scope="row"><a href="#${esc(idPrefix)}model-${esc(slug(m.model))}">${esc(displayName(m.model))}</a><br><small>${esc(metricName(m))}</small></th>${cells}</tr>`;
    })
    .join('\n');
  return `<div class="table-wrap"><table class="results"><thead><tr><th scope="col">model</th>${head}</tr></thead><tbody>
${rows}
</tbody></table></div>
<ul class="notes">${tableNotes(r)
    .map((n) => `<li>${esc(n)}</li>`)
    .join('')}</ul>`;
};

const pCell = (p: number | null | undefined): string => (p === null || p === undefined ? '' : p >= 0.001 ? p.toFixed(3) : p.toExponential(1));

const modelTable = (m: ModelReport): string => {
  const c = m.comparison;
  const rows = m.series
    .map((s) => {
      const row = c?.rows[s.label];
      const vs = c
        ? `<td>${row ? esc(row.verdict === 'tied' ? `${TIED_MARK} tied` : row.verdict) : 'not compared'}</td><td>${pCell(row?.p)}</td><td>${pCell(row?.pAdjusted)}</td>`
        : '';
      const runs = s.runs;
      const done = runs.map((x) => `${x.epochsDone}/${x.epochsPlanned}`).join(', ');
      const errs = runs.filter((x) => x.error).map((x) => `seed ${x.seed}: ${x.error}`);
      return `<tr class="${s.cell.best ? 'best' : ''}"><th scope="row"><span class="swatch" style="${swatchStyle(colorFor(s.label))}"></span>${esc(s.label)}${s.cell.best ? ' <span class="star" aria-label="best">★</span>' : ''}</th><td>${esc(valueText(s.cell))}</td><td>${s.cell.study === null ? '' : s.cell.study.toFixed(2)}</td><td>${s.cell.diff === null ? '' : (s.cell.diff >= 0 ? '+' : '−') + Math.abs(s.cell.diff).toFixed(2)}</td><td>${esc(s.cell.status)}${errs.length ? `<br><small>${esc(errs.join('; '))}</small>` : ''}</td><td>${esc(done)}</td><td>${esc(s.preset)}</td>${vs}</tr>`;
    })
    .join('\n');
  const vsHead = c ? `<th scope="col">vs best</th><th scope="col">p</th><th scope="col">p (Holm)</th>` : '';
  const note = c
    ? `<p class="notes">Value: mean ± half-width of the 95 % t interval. vs best: ${esc(c.testReason)}; seeds ${esc(c.seeds.join(', '))}${c.excluded.length ? `; not compared (no finished run on those seeds): ${esc(c.excluded.join(', '))}` : ''}.</p>`
    : '';
  return `${note}<div class="table-wrap"><table class="model-table"><thead><tr><th scope="col">optimizer</th><th scope="col">${esc(metricName(m))}</th><th scope="col">study</th><th scope="col">Δ</th><th scope="col">status</th><th scope="col">epochs done</th><th scope="col">preset</th>${vsHead}</tr></thead><tbody>
${rows}
</tbody></table></div>`;
};

export const figureHtml = (f: Figure): string =>
  `<figure id="fig-${esc(f.name)}">${f.svg}<figcaption>${esc(f.caption)}</figcaption></figure>`;

/** The report's stylesheet (the live page of `optbench serve` serves it too, so that both look alike). */
export const REPORT_CSS = `
*{box-sizing:border-box}
body{font-family:'DejaVu Sans','Liberation Sans',Arial,Helvetica,sans-serif;margin:0 auto;max-width:1100px;padding:1rem;color:#111;line-height:1.45;background:#fff}
h1{font-size:1.6rem;margin:.2rem 0 .6rem}h2{font-size:1.3rem;border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4rem 1rem}
figure{margin:1rem 0;break-inside:avoid;page-break-inside:avoid}
figure svg{width:100%;height:auto;max-width:100%;display:block}
figcaption{font-size:.9rem;color:#333;margin-top:.3rem}
.figures{display:grid;grid-template-columns:1fr;gap:.5rem}
@media (min-width:1000px){.figures{grid-template-columns:1fr}}
.table-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0}
th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:right;vertical-align:top}
th[scope=row],thead th:first-child{text-align:left}
thead th,th[scope=row]{white-space:nowrap}
td.best,tr.best td,tr.best th{background:#eaf3fb;font-weight:bold}
.star{color:#0072B2}.tied{color:#009E73;font-weight:bold}
.swatch{display:inline-block;width:.8em;height:.8em;margin-right:.35em;border-radius:2px;vertical-align:baseline}
.partial{background:#fff4d6;border-left:4px solid #E69F00;padding:.4rem .7rem}
.warnings{background:#fbeaea;border-left:4px solid #D55E00;padding:.4rem .7rem}
small{color:#444;font-weight:normal}
td small{white-space:nowrap}
.notes{font-size:.85rem;color:#333}
@media (max-width:600px){body{padding:.5rem;font-size:15px}h1{font-size:1.3rem}table{font-size:.8rem}}
@media print{nav{display:none}body{max-width:none;padding:0;font-size:10pt}section.model{break-before:page;page-break-before:always}
a{color:inherit;text-decoration:none}.table-wrap{overflow:visible}td.best,tr.best td,tr.best th{background:none}}
`;

/**
 * A self-contained page around `body` (already escaped HTML): inline CSS, and a Content-Security-Policy
 * that allows no scripts and no requests (images only as data: URIs). Every optbench page is one of these.
 */
export const htmlPage = (title: string, body: string): string => `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>${esc(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;

/** A section of a page: an entry of its navigation. `body` is HTML, already escaped. */
export interface PageSection {
  readonly id: string;
  readonly title: string;
  readonly body: string;
}

/**
 * The layout every report page shares: a header (title, a line of metadata, a notice, the navigation),
 * the summary section, one section per model or search, and a footer. Arguments are escaped HTML.
 */
export const layoutPage = (p: {
  readonly title: string;
  readonly meta?: string;
  readonly notice?: string;
  readonly summary: string;
  readonly sections: readonly PageSection[];
  readonly footer: string;
  readonly sectionClass?: string;
}): string => {
  const nav = p.sections.map((s) => `<li><a href="#${esc(s.id)}">${esc(s.title)}</a></li>`).join('');
  const sections = p.sections
    .map((s) => `<section class="${p.sectionClass ?? 'model'}" id="${esc(s.id)}">
<h2>${esc(s.title)}</h2>
${s.body}
</section>`)
    .join('\n');
  return htmlPage(
    p.title,
    `<header>
<h1>${esc(p.title)}</h1>
${p.meta ? `<p>${esc(p.meta)}</p>` : ''}
${p.notice ?? ''}
<nav><ul><li><a href="#summary">Summary</a></li>${nav}</ul></nav>
</header>
<main>
<section id="summary">
<h2>Summary</h2>
${p.summary}
</section>
${sections}
</main>
<footer><p class="notes">${p.footer}</p></footer>`,
  );
};

/** What a report shows, as parts of a page: a line of metadata, a notice, the summary and one section per model. */
export interface ReportParts {
  readonly meta: string;
  readonly notice: string;
  readonly summary: string;
  readonly sections: readonly PageSection[];
}

/**
 * The report's content for the figures drawn from it, as escaped HTML: renderHtml lays it out as report.html,
 * and `optbench serve` puts it in its live page. `idPrefix` keeps ids apart when one page shows several reports.
 */
export const reportParts = (r: Report, figures: readonly Figure[], idPrefix = ''): ReportParts => {
  const summary = r.models.map((m) => `<li>${esc(summarySentence(m))}</li>`).join('\n');
  const partial = r.partial
    ? `<p class="partial"><strong>Partial report:</strong> some runs are still training, were interrupted or have not started; it shows the epochs completed so far. Run the report again when training ends.</p>`
    : '';
  const warnings = r.warnings.length
    ? `<div class="warnings"><p>Some files could not be read:</p><ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></div>`
    : '';
  const sections = r.models.map((m): PageSection => {
    const figs = figures.filter((f) => f.model === m.model);
    const epochsNote =
      m.epochsPlanned !== STUDY_EPOCHS && m.series.some((s) => s.cell.study !== null)
        ? `<p class="notes">These runs train ${m.epochsPlanned} epoch${m.epochsPlanned === 1 ? '' : 's'}; the study trained ${STUDY_EPOCHS}, so its values are a reference, not a target.</p>`
        : '';
    return {
      id: `${idPrefix}model-${slug(m.model)}`,
      title: displayName(m.model),
      body: `${statusBadge(m)}<p>${esc(summarySentence(m))}</p>${epochsNote}
${modelTable(m)}
<div class="figures">${figs.map(figureHtml).join('\n')}</div>`,
    };
  });
  const ttt = tttRows(r);
  if (ttt !== null) {
    const head = ttt.head.map((h) => `<th scope="col">${esc(h)}</th>`).join('');
    const rows = ttt.rows
      .map(([label, ...cells]) => `<tr><th scope="row"><span class="swatch" style="background:${colorFor(label!)}"></span>${esc(label!)}</th>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
      .join('\n');
    sections.push({
      id: `${idPrefix}time-to-target`,
      title: 'Time to target',
      body: `<div class="table-wrap"><table class="ttt"><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table></div>
<ul class="notes">${tttNotes(r)
        .map((n) => `<li>${esc(n)}</li>`)
        .join('')}</ul>
<div class="figures">${figures.filter((f) => f.model === '').map(figureHtml).join('\n')}</div>`,
    });
  }
  const meta = [r.task ? `task ${r.task}` : '', r.createdAt ? `started ${r.createdAt}` : ''].filter((x) => x !== '').join(', ');
  return {
    meta,
    notice: partial,
    summary: `<ul>${summary}</ul>
${overviewTable(r, idPrefix)}
${warnings}`,
    sections,
  };
};

/** One self-contained page: inline CSS and SVG (images as data: URIs), no scripts, no requests. */
export const renderHtml = (r: Report, figures: readonly Figure[]): string =>
  layoutPage({
    title: r.title,
    ...reportParts(r, figures),
    footer:
      "Made by optbench from the run directory's records; figures use the Okabe–Ito colour-blind-safe palette, one colour per optimizer throughout.",
  });
