import * as t from 'io-ts';
import { Fn, strict } from '../config/codecs.js';
import * as E from 'fp-ts/lib/Either.js';
import { EMPTY, concat, concatMap, defer, lastValueFrom, map, of, tap, toArray, type Observable, type OperatorFunction } from 'rxjs';
import { decodeWith } from '../config/spec.js';
import { toOptbenchError, unknown, type OptbenchError } from '../errors.js';
import { isOneOf } from '../one-of.js';
import { isGridStarted, isRunEvent, isTerminal, type StreamEvent } from '../train/events.js';
import { foldRunRecord, foldTargetReached, type GridRecord, type RunRecord } from '../train/record.js';
import { isTargetReached, Targets } from '../train/target.js';
import { fileWriter, pageFiles, writeArtifacts, type ArtifactWriter, type Page } from './artifacts.js';
import { buildReport } from './build.js';
import { reportFigures, type Figure } from './figures.js';
import { renderHtml } from './html.js';
import { readRunDir } from './read.js';
import { toCsv, toLatex, toMarkdown } from './tables.js';
import { FORMATS, type Artifact, type Format, type Report, type ReportSource } from './types.js';
import { raise } from '../observable.js';

const FormatCodec = t.keyof(Object.fromEntries(FORMATS.map((f) => [f, null])) as Record<Format, null>, 'a format (html, md, png, svg, csv, tex)');

/** renderD3's options, decoded at subscription: the data ones by value, the code ones for being functions. */
const RenderSettings = strict(
  t.partial({
    /** What to write; default: every format. */
    formats: t.readonlyArray(FormatCodec),
    /** PNG size relative to the SVG (default 2, sharp on high-density screens and in print). */
    pngScale: t.refinement(t.number, (n) => Number.isFinite(n) && n > 0, 'a positive number'),
    /** From RunEvents: also render after each run that ends (a live report), not only at completion. */
    live: t.boolean,
    /** From RunEvents: what the report calls the grid (grid.json's task and title when read from files). */
    task: t.string,
    title: t.string,
    /** From RunEvents: the targets the runs were judged against (grid.json's when read from files). */
    targets: Targets,
    writer: Fn,
    figures: Fn,
  }),
  'render options',
);

export interface RenderOptions extends Omit<t.TypeOf<typeof RenderSettings>, 'writer' | 'figures'> {
  /** Where files go (default: to disk). */
  readonly writer?: ArtifactWriter;
  /**
   * The figures to draw from the report (default: reportFigures, the study's). A user's own plot is a
   * function from the report to a Figure, built with the chart blocks (lineChart, stripChart, ...).
   */
  readonly figures?: (r: Report) => readonly Figure[];
}

/** The run report as a page: the figures `figures` draws from it (the study's by default), the tables, report.html. */
export const reportPage = (r: Report, figuresOf: (r: Report) => readonly Figure[] = reportFigures): Page => {
  const figures = figuresOf(r);
  return {
    figures,
    tables: [
      { kind: 'md', name: 'table.md', text: toMarkdown(r) },
      { kind: 'csv', name: 'table.csv', text: toCsv(r) },
      { kind: 'tex', name: 'table.tex', text: toLatex(r) },
    ],
    html: { name: 'report.html', text: () => renderHtml(r, figures) },
  };
};

const isReport = (x: Report | StreamEvent): x is Report => !('type' in x);

/**
 * Draws the study's figures (SVG, PNG), tables (Markdown, CSV, LaTeX) and one HTML page into `outDir`
 * (the page at the top, the rest under report/), emitting each file as it is written. It takes Reports, or
 * the RunEvents of a pipeline directly: it keeps every run's record as the events arrive (GridStarted gives
 * the planned runs and class names) and renders the report when the stream completes, and with `live`
 * also after every run that ends. Other events pass unseen. Bad options, and a directory that cannot be
 * written, are an OptbenchError on the error channel.
 */
export const renderD3 =
  (outDir: string, options: RenderOptions = {}): OperatorFunction<Report | StreamEvent, Artifact> =>
  (source) =>
    defer(() => {
      const decoded = decodeWith(RenderSettings, 'render options')(options);
      if (E.isLeft(decoded)) return raise(decoded.left);
      const opts = decoded.right;
      const writer = options.writer ?? fileWriter;
      const formats = new Set<Format>(opts.formats ?? FORMATS);
      const render = (r: Report): Observable<Artifact> =>
        defer(() => writeArtifacts(pageFiles(outDir, reportPage(r, options.figures), formats, opts.pngScale), writer));
      let grid: GridRecord | null = null;
      const runs = new Map<string, RunRecord>();
      let seen = false;
      const current = (): Report => buildReport({ grid, runs: [...runs.values()], warnings: [] });
      const see = (e: StreamEvent): boolean => {
        if (isGridStarted(e)) {
          seen = true;
          grid = {
            task: opts.task ?? '',
            title: opts.title ?? '',
            createdAt: new Date().toISOString(),
            classNames: e.classNames,
            specs: e.specs,
            ...(opts.targets !== undefined ? { targets: opts.targets } : {}),
          };
          return false;
        }
        if (isTargetReached(e)) {
          const next = foldTargetReached(runs.get(e.runId), e, new Date().toISOString());
          if (next !== undefined) runs.set(e.runId, next);
          return false;
        }
        if (!isRunEvent(e)) return false;
        seen = true;
        const next = foldRunRecord(runs.get(e.runId), e, new Date().toISOString());
        if (next !== undefined) runs.set(e.runId, next);
        return isTerminal(e);
      };
      return concat(
        source.pipe(concatMap((x) => (isReport(x) ? render(x) : see(x) && opts.live === true ? defer(() => render(current())) : EMPTY))),
        defer(() => (seen ? render(current()) : EMPTY)),
      );
    });

/** The stream's `report()` step: run records in, report data out. */
export const report = (): OperatorFunction<ReportSource, Report> => map(buildReport);

/** Validates format names as the CLI receives them (`html,md,png`). */
export const parseFormats = (names: readonly string[]): E.Either<OptbenchError, Format[]> => {
  const out: Format[] = [];
  for (const n of names.flatMap((x) => x.split(',')).map((x) => x.trim().toLowerCase()).filter((x) => x !== '')) {
    if (!isOneOf(FORMATS)(n)) return E.left(unknown('report format', n, FORMATS));
    if (!out.includes(n)) out.push(n);
  }
  return E.right(out.length > 0 ? out : [...FORMATS]);
};

export interface WriteReportOptions {
  /** Output directory; default: the run directory itself. */
  readonly out?: string;
  /** Format names; default: all. */
  readonly formats?: readonly string[];
  readonly pngScale?: number;
  /**
   * Told each warning the report carries (a run file skipped, a damaged store read around, runs of another
   * protocol left out), so that the CLI can say it on stderr and not only inside the report.
   */
  readonly onWarning?: (warning: string) => void;
}

/** `optbench report <run-dir>`: reads the run directory, builds the report and writes every artifact. */
export const writeReport = async (runDir: string, opts: WriteReportOptions = {}): Promise<E.Either<OptbenchError, Artifact[]>> => {
  const formats = parseFormats(opts.formats ?? []);
  if (E.isLeft(formats)) return formats;
  const source = readRunDir(runDir);
  if (E.isLeft(source)) return source;
  try {
    const written = await lastValueFrom(
      of(source.right).pipe(
        report(),
        tap((r) => r.warnings.forEach((w) => opts.onWarning?.(w))),
        renderD3(opts.out ?? runDir, { formats: formats.right, ...(opts.pngScale !== undefined ? { pngScale: opts.pngScale } : {}) }),
        toArray(),
      ),
    );
    return E.right(written);
  } catch (e) {
    return E.left(toOptbenchError(e));
  }
};
