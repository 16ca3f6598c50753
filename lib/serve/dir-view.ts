/**
 * What the page shows of one run directory, as HTML parts the server keeps and the page swaps in: a row
 * per run, the lines above them, the sweep; and a key that changes whenever the report would.
 */
import { createHash } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { OptbenchError } from '../errors.js';
import type { DirSnapshot } from './dir-read.js';
import type { DirChange } from './page/messages.js';
import { runViews, type StepProgress } from './run-view.js';
import { dirHeadHtml, runRowHtml } from './runs-html.js';
import { sweepHtml } from './sweep-html.js';
import type { DirRead } from './watch.js';

export type { DirChange };

export interface DirView {
  readonly index: number;
  /** Bumped whenever anything below changes; the page asks for all of it when it has another version. */
  readonly version: number;
  /** The last read that succeeded (kept while the directory cannot be read). */
  readonly snapshot: DirSnapshot | null;
  /** Why the last read failed (the directory was removed, its store damaged), or null. */
  readonly error: OptbenchError | null;
  /** Each run's row, in display order. */
  readonly rows: ReadonlyMap<string, string>;
  readonly head: string;
  readonly sweep: string;
  readonly sweepKey: string;
  /** Changes whenever the report of any selection of runs would. */
  readonly reportKey: string;
}

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');

/** Everything the report reads from a snapshot that can change while runs train. */
const reportKeyOf = (s: DirSnapshot): string =>
  sha1(
    JSON.stringify([
      s.grid === null ? null : [s.grid.task, s.grid.title, s.grid.classNames, s.grid.specs.length],
      s.planned.map((p) => p.runId),
      s.runs.map(({ row, record }) => [row.runId, row.status, record.epochs.length, record.updatedAt, row.final, row.error?._tag ?? null]),
    ]),
  );

/** The prefix of every id in a directory's part of the page. */
export const idPrefix = (index: number): string => `d${index}-`;

export const emptyView = (index: number): DirView => ({
  index,
  version: 0,
  snapshot: null,
  error: null,
  rows: new Map(),
  head: '',
  sweep: '',
  sweepKey: '',
  reportKey: '',
});

/** The view after a read (and the queue's latest steps); `prev` when nothing the page shows has changed. */
export const nextView = (prev: DirView, read: DirRead, steps: ReadonlyMap<string, StepProgress>): DirView => {
  const snapshot = E.isRight(read) ? read.right : prev.snapshot;
  const error = E.isLeft(read) ? read.left : null;
  const views = snapshot === null ? [] : runViews(snapshot, steps);
  const rows = new Map(views.map((v) => [v.runId, runRowHtml(v)]));
  const reportKey = snapshot === null ? '' : reportKeyOf(snapshot);
  const sweepKey = snapshot?.sweep ? sha1(JSON.stringify(snapshot.sweep) + reportKey) : '';
  const sweep = sweepKey === prev.sweepKey ? prev.sweep : snapshot === null ? '' : sweepHtml(snapshot, idPrefix(prev.index));
  const next = { ...prev, snapshot, error, rows, head: dirHeadHtml(snapshot, views, error), sweep, sweepKey, reportKey };
  return viewChange(prev, next) === null ? prev : { ...next, version: prev.version + 1 };
};

const sameOrder = (a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean => {
  if (a.size !== b.size) return false;
  const ka = [...a.keys()];
  let i = 0;
  for (const k of b.keys()) if (ka[i++] !== k) return false;
  return true;
};

/** What changed from `prev` to `next` (next's version need not be set yet), or null when nothing did. */
export const viewChange = (prev: DirView, next: DirView): DirChange | null => {
  const rows = [...next.rows].filter(([id, html]) => prev.rows.get(id) !== html);
  const order = sameOrder(prev.rows, next.rows) ? null : [...next.rows.keys()];
  const head = next.head !== prev.head;
  const sweep = next.sweep !== prev.sweep;
  const report = next.reportKey !== prev.reportKey;
  if (rows.length === 0 && order === null && !head && !sweep && !report) return null;
  return {
    dir: next.index,
    base: prev.version,
    version: next.version === prev.version ? prev.version + 1 : next.version,
    rows,
    order,
    ...(head ? { head: next.head } : {}),
    ...(sweep ? { sweep: next.sweep } : {}),
    report,
  };
};
