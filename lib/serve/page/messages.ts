/**
 * What the server sends the page, as JSON: the contract between lib/serve (Node) and the page's script
 * (app.ts, in the browser). Types only, so that both programs compile this one file: the server's with
 * Node's types, the page's with the DOM's (tsconfig.json here).
 */

/** What the page must change when a directory's view changes (`base`: the version it applies to). */
export interface DirChange {
  readonly dir: number;
  readonly base: number;
  readonly version: number;
  /** Rows that are new or changed: run id and the row's HTML. */
  readonly rows: readonly (readonly [string, string])[];
  /** Every run id in display order, when runs were added, removed or reordered. */
  readonly order: readonly string[] | null;
  /** The lines above the table, when they changed. */
  readonly head?: string;
  readonly sweep?: string;
  /** The report (tables, figures) changed: the page asks for its selection's again. */
  readonly report: boolean;
}

/** The queue's part of the page (with --queue). */
export interface QueueView {
  readonly version: number;
  readonly html: string;
}

/** The server-sent events of /events, by name: each event's `data`. */
export interface ServerEvents {
  /** First on every stream: each directory's version and the queue's view, so a page (re)connecting can tell what it missed. */
  readonly hello: { readonly dirs: readonly number[]; readonly queue: QueueView | null };
  readonly dir: { readonly type: 'dir' } & DirChange;
  readonly queue: { readonly type: 'queue' } & QueueView;
}

/** GET /d/<i>/runs: all of one directory's part of the page, for a page that fell behind. */
export interface DirAnswer {
  readonly version: number;
  /** Every run's row, in display order. */
  readonly rows: string;
  readonly head: string;
  readonly sweep: string;
}
