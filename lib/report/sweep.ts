import * as E from 'fp-ts/lib/Either.js';
import { lastValueFrom, toArray } from 'rxjs';
import { toOptbenchError, type OptbenchError } from '../errors.js';
import { readSweepRecord } from '../sweep/record.js';
import { fileWriter, pageFiles, writeArtifacts, type ArtifactWriter, type Page } from './artifacts.js';
import type { Figure } from './figures.js';
import { esc, figureHtml, layoutPage, type PageSection } from './html.js';
import { readRunDir } from './read.js';
import { buildSweepReport, type SweepReport } from './sweep-build.js';
import { sweepFigures } from './sweep-figures.js';
import { sweepMarkdown, sweepSections, type Block } from './sweep-tables.js';
import { FORMATS, type Artifact, type Format } from './types.js';

export * from './sweep-build.js';
export { sweepFigures } from './sweep-figures.js';
export { bestConfigurations, sweepMarkdown, sweepSections, type Block, type SweepSection, type Table } from './sweep-tables.js';

/** One block of the sweep report (heading, paragraph, notes, table) as HTML. */
export const sweepBlockHtml = (b: Block): string => {
  if ('heading' in b) return `<h3>${esc(b.heading)}</h3>`;
  if ('paragraph' in b) return `<p>${esc(b.paragraph)}</p>`;
  if ('notes' in b) return `<ul class="notes">${b.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`;
  const t = b.table;
  return `<div class="table-wrap"><table><thead><tr>${t.head.map((c) => `<th scope="col">${esc(c)}</th>`).join('')}</tr></thead><tbody>${t.rows
    .map((row) => `<tr>${row.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table></div>`;
};

/** The sweep's page, laid out as the run report's: summary first, then a section per search with its figures. */
export const sweepHtml = (r: SweepReport, figures: readonly Figure[]): string => {
  const parts = sweepSections(r);
  const figs = (fs: readonly Figure[]) => (fs.length > 0 ? `<div class="figures">${fs.map(figureHtml).join('\n')}</div>` : '');
  const owned = (id: string) => figures.filter((f) => f.name.startsWith(`sweep-${id}-`));
  const loose = figures.filter((f) => !parts.some((p) => p.id !== null && f.name.startsWith(`sweep-${p.id}-`)));
  const chosen = r.searches.map((s) => {
    const t = s.best === null ? null : s.trials[s.best];
    return `<li>${esc(`${s.config.optimizer}: ${t ? `chose trial ${t.trial + 1} of ${s.trials.length}` : 'no trial completed its full budget'}`)}</li>`;
  });
  const single = parts.find((p) => p.id === null);
  const sections: PageSection[] = parts
    .filter((p) => p.id !== null)
    .map((p) => ({ id: `search-${p.id}`, title: p.title, body: `${p.blocks.map(sweepBlockHtml).join('\n')}\n${figs(owned(p.id!))}` }));
  return layoutPage({
    title: r.title,
    meta: `${r.kind}, ${r.searches.length} search${r.searches.length === 1 ? '' : 'es'}`,
    summary: `<ul>${chosen.join('')}</ul>
${single ? single.blocks.map(sweepBlockHtml).join('\n') : ''}
${figs(loose)}
<p><a href="report.html">Full report of the retraining runs (curves, per-seed statistics)</a></p>`,
    sections,
    sectionClass: 'search',
    footer: "Made by optbench from sweep.json and the store; trials are validated on held-out training images, never on the test set.",
  });
};

/** The sweep report as a page: its figures, sweep.md, sweep.html. */
export const sweepPage = (r: SweepReport): Page => {
  const figures = sweepFigures(r);
  return { figures, tables: [{ kind: 'md', name: 'sweep.md', text: sweepMarkdown(r) }], html: { name: 'sweep.html', text: () => sweepHtml(r, figures) } };
};

/**
 * Writes the sweep's report next to the run directory's own, in the same layout: sweep.html at the top,
 * figures (SVG, PNG) and sweep.md under report/. Reads sweep.json and the final runs' records; never trains.
 */
export const writeSweepReport = async (
  outDir: string,
  opts: { readonly formats?: readonly Format[]; readonly writer?: ArtifactWriter } = {},
): Promise<E.Either<OptbenchError, Artifact[]>> => {
  const rec = readSweepRecord(outDir);
  if (E.isLeft(rec)) return rec;
  if (rec.right === null) return E.right([]);
  const runs = readRunDir(outDir);
  const report = buildSweepReport(rec.right, E.isRight(runs) ? runs.right.runs : []);
  try {
    const files = pageFiles(outDir, sweepPage(report), new Set(opts.formats ?? FORMATS));
    return E.right(await lastValueFrom(writeArtifacts(files, opts.writer ?? fileWriter).pipe(toArray())));
  } catch (e) {
    return E.left(toOptbenchError(e));
  }
};
