/** The live page: every directory's runs, report and sweep, and the queue; its stylesheet. */
import { basename } from 'node:path';
import { esc } from '../report/html.js';
import { REPORT_CSS } from '../report/html.js';
import { idPrefix, type DirView } from './dir-view.js';
import type { QueueView } from './live.js';
import { runsHead, TEXT_CELLS } from './runs-html.js';

/** The report's stylesheet, and what the live page adds (the runs table, the filter, the live status). */
export const PAGE_CSS = `${REPORT_CSS}
body{max-width:1400px}
header .live{display:inline-block;margin:0 0 .5rem;padding:.15rem .6rem;border-radius:3px;font-size:.9rem;background:#eee}
header .live.on{background:#e3f2ea;color:#00553e}
header .live.off{background:#fbeaea;color:#8a2b00}
section.rundir{border-top:3px solid #ccc;margin-top:2rem}
section.rundir h2{border-bottom:none}
section.rundir h2 small{font-weight:normal;font-size:.8rem;color:#444;word-break:break-all}
.filter{display:flex;flex-wrap:wrap;gap:.4rem .6rem;align-items:center;margin:.4rem 0}
.filter input{font:inherit;padding:.15rem .3rem;min-width:14em}
.filter button{font:inherit;padding:.15rem .6rem}
table.runs th,table.runs td{white-space:nowrap}
table.runs td.note{white-space:normal;text-align:left;min-width:16em}
${TEXT_CELLS}{text-align:left}
.report section.model,.sweep section.search{content-visibility:auto;contain-intrinsic-size:auto 1500px}
tr.status-running td.status{color:#0072B2;font-weight:bold}
tr.status-done td.status{color:#00553e}
tr.status-failed td.status{color:#b34700;font-weight:bold}
tr.status-interrupted td.status{color:#8a6d00}
.report h3{font-size:1.15rem;border-bottom:1px solid #ddd;margin-top:1.5rem}
.sweep h4{font-size:1.05rem;margin-bottom:.3rem}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
image.tile{image-rendering:pixelated}
@media (min-width:1100px){.report .figures,.sweep .figures{grid-template-columns:1fr 1fr}}
`;

const title = (v: DirView, dir: string): string => v.snapshot?.grid?.title || v.snapshot?.grid?.task || basename(dir);

const dirSection = (v: DirView, dir: string, report: string): string => `<section class="rundir" id="${idPrefix(v.index)}dir" data-dir="${v.index}" data-version="${v.version}">
<h2>${esc(title(v, dir))} <small>${esc(dir)}</small></h2>
<div class="dir-head">${v.head}</div>
<details class="runs-box" open><summary>Runs</summary>
<div class="filter"><label>Runs to draw: <input type="search" class="filter-text" placeholder="e.g. adam s0" aria-label="words a run's name contains"></label>
<button type="button" class="draw-matching">Draw matching</button><button type="button" class="draw-all">Draw all</button><button type="button" class="draw-none">Draw none</button></div>
<div class="table-wrap"><table class="runs"><thead>${runsHead()}</thead><tbody>
${[...v.rows.values()].join('\n')}
</tbody></table></div>
</details>
<div class="report" aria-live="polite">${report}</div>
<div class="sweep">${v.sweep}</div>
</section>`;

export interface PageInput {
  readonly dirs: readonly string[];
  readonly views: readonly DirView[];
  /** Each directory's report for every run (the page's first selection). */
  readonly reports: readonly string[];
  readonly queue: QueueView | null;
}

export const pageHtml = (p: PageInput): string => {
  const n = p.dirs.length;
  const nav = p.views.map((v, i) => `<li><a href="#${idPrefix(v.index)}dir">${esc(title(v, p.dirs[i]!))}</a></li>`);
  if (p.queue !== null) nav.push('<li><a href="#queue">Queue</a></li>');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>optbench: ${n} run director${n === 1 ? 'y' : 'ies'}, live</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/style.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
<h1>optbench: runs as they train</h1>
<p id="live" class="live" role="status">connecting…</p>
<nav><ul>${nav.join('')}</ul></nav>
</header>
<main>
${p.views.map((v, i) => dirSection(v, p.dirs[i]!, p.reports[i]!)).join('\n')}
${p.queue === null ? '' : `<section id="queue" class="queue"><h2>Queue</h2><div id="queue-body" data-version="${p.queue.version}">${p.queue.html}</div></section>`}
</main>
<footer><p class="notes">Served read-only by optbench serve from each directory's store (and grid.json, sweep.json); it follows them as they change. Figures are the report's own; the Okabe–Ito palette gives each optimizer one colour throughout.</p></footer>
</body>
</html>
`;
};
