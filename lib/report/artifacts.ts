import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { catchError, concatMap, defer, from, type Observable } from 'rxjs';
import { toOptbenchError } from '../errors.js';
import type { Figure } from './figures.js';
import { svgToPng } from './raster.js';
import type { Artifact, Format } from './types.js';
import { raise } from '../observable.js';

/** Where a page's files go: the page itself at the top of outDir, its figures and tables under outDir/report/. */
export const REPORT_SUBDIR = 'report';

/** A file a report writes: its path, and its content, made only when it is written. */
export interface ArtifactFile {
  readonly kind: Format;
  readonly path: string;
  readonly content: () => Promise<string | Uint8Array>;
}

/** Writes one file and reports it; the report's stages take another (e.g. in memory) for tests. */
export type ArtifactWriter = (file: ArtifactFile) => Observable<Artifact>;

/** A page of a report: figures, tables (`table.md`, `sweep.md` ...), and its HTML (`report.html`). */
export interface Page {
  readonly figures: readonly Figure[];
  readonly tables: ReadonlyArray<{ readonly kind: Format; readonly name: string; readonly text: string }>;
  readonly html: { readonly name: string; readonly text: () => string };
}

/**
 * The files of a page in the formats asked for, in the order they are written: each figure as SVG and
 * PNG, the tables, then the page. The same layout for the run report and the sweep report.
 */
export const pageFiles = (outDir: string, page: Page, formats: ReadonlySet<Format>, pngScale = 2): ArtifactFile[] => {
  const sub = join(outDir, REPORT_SUBDIR);
  const files: ArtifactFile[] = [];
  for (const f of page.figures) {
    if (formats.has('svg')) files.push({ kind: 'svg', path: join(sub, `${f.name}.svg`), content: async () => `<?xml version="1.0" encoding="UTF-8"?>\n${f.svg}\n` });
    if (formats.has('png')) files.push({ kind: 'png', path: join(sub, `${f.name}.png`), content: () => svgToPng(f.svg, pngScale) });
  }
  for (const t of page.tables) if (formats.has(t.kind)) files.push({ kind: t.kind, path: join(sub, t.name), content: async () => t.text });
  if (formats.has('html')) files.push({ kind: 'html', path: join(outDir, page.html.name), content: async () => page.html.text() });
  return files;
};

/** Writes to disk, making the directory first. */
export const fileWriter: ArtifactWriter = (file) =>
  defer(async (): Promise<Artifact> => {
    const data = await file.content();
    await mkdir(dirname(file.path), { recursive: true });
    await writeFile(file.path, data);
    return { kind: file.kind, path: file.path, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.length };
  });

/** Writes files one after another, emitting each as it is written; a failure is an OptbenchError (IoError). */
export const writeArtifacts = (files: readonly ArtifactFile[], writer: ArtifactWriter = fileWriter): Observable<Artifact> =>
  from(files).pipe(
    concatMap(writer),
    catchError((e: unknown) => raise(toOptbenchError(e))),
  );
