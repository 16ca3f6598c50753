import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { catchError, concatMap, from, lastValueFrom, map, of, tap, throwError, toArray, type OperatorFunction } from 'rxjs';
import { toOptbenchError, unknown, type OptbenchError } from '../errors.js';
import { buildReport } from './build.js';
import { reportFigures } from './figures.js';
import { renderHtml } from './html.js';
import { svgToPng } from './raster.js';
import { readRunDir } from './read.js';
import { toCsv, toLatex, toMarkdown } from './tables.js';
import { FORMATS, type Artifact, type Format, type Report, type ReportSource } from './types.js';

export interface RenderOptions {
  /** What to write; default: every format. */
  readonly formats?: readonly Format[];
  /** PNG size relative to the SVG (default 2, sharp on high-density screens and in print). */
  readonly pngScale?: number;
}

/** Where each artifact goes: report.html at the top of outDir, the rest under outDir/report/. */
export const REPORT_SUBDIR = 'report';

async function* artifacts(report: Report, outDir: string, opts: RenderOptions): AsyncGenerator<Artifact> {
  const formats = new Set(opts.formats ?? FORMATS);
  const sub = join(outDir, REPORT_SUBDIR);
  await mkdir(sub, { recursive: true });
  const write = async (kind: Format, path: string, data: string | Buffer): Promise<Artifact> => {
    await writeFile(path, data);
    return { kind, path, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.length };
  };
  const figures = reportFigures(report);
  for (const f of figures) {
    if (formats.has('svg')) yield await write('svg', join(sub, `${f.name}.svg`), `<?xml version="1.0" encoding="UTF-8"?>\n${f.svg}\n`);
    if (formats.has('png')) yield await write('png', join(sub, `${f.name}.png`), await svgToPng(f.svg, opts.pngScale ?? 2));
  }
  if (formats.has('md')) yield await write('md', join(sub, 'table.md'), toMarkdown(report));
  if (formats.has('csv')) yield await write('csv', join(sub, 'table.csv'), toCsv(report));
  if (formats.has('tex')) yield await write('tex', join(sub, 'table.tex'), toLatex(report));
  if (formats.has('html')) yield await write('html', join(outDir, 'report.html'), renderHtml(report, figures));
}

/**
 * Writes a report's figures (SVG, PNG), tables (Markdown, CSV, LaTeX) and its HTML page into `outDir`,
 * emitting each file as it is written. A failure (e.g. a directory that cannot be written) is an
 * OptbenchError on the error channel.
 */
export const renderD3 =
  (outDir: string, opts: RenderOptions = {}): OperatorFunction<Report, Artifact> =>
  (reports) =>
    reports.pipe(
      concatMap((r) => from(artifacts(r, outDir, opts))),
      catchError((e: unknown) => throwError(() => toOptbenchError(e))),
    );

/** The stream's `report()` step: run records in, report data out. */
export const report = (): OperatorFunction<ReportSource, Report> => map(buildReport);

/** Validates format names as the CLI receives them (`html,md,png`). */
export const parseFormats = (names: readonly string[]): E.Either<OptbenchError, Format[]> => {
  const out: Format[] = [];
  for (const n of names.flatMap((x) => x.split(',')).map((x) => x.trim().toLowerCase()).filter((x) => x !== '')) {
    if (!(FORMATS as readonly string[]).includes(n)) return E.left(unknown('option', n, FORMATS));
    if (!out.includes(n as Format)) out.push(n as Format);
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
