/**
 * The server's live state: one watcher per run directory (and the queue's status, with --queue) folded
 * into each directory's view, and every change as an event for the pages that are open.
 */
import * as E from 'fp-ts/lib/Either.js';
import { EMPTY, map, merge, Subject, type Observable } from 'rxjs';
import type { DirSnapshot } from './dir-read.js';
import { emptyView, nextView, viewChange, type DirView } from './dir-view.js';
import type { QueueView, ServerEvents } from './page/messages.js';
import { queueHtml, queueSteps, type QueueRead } from './queue-view.js';
import type { StepProgress } from './run-view.js';
import { watchDir, type DirRead, type WatchOptions } from './watch.js';

export type { QueueView };

/** What the pages are sent as it happens, as the page's script reads it (page/messages.ts). */
export type LiveEvent = ServerEvents['dir'] | ServerEvents['queue'];

export interface Live {
  /** Each directory's view now, in the order the directories were given. */
  readonly dirs: () => readonly DirView[];
  /** The queue's part of the page now; null without --queue. */
  readonly queue: () => QueueView | null;
  /** Every change, as it happens (hot: a page that subscribes later asks for the current state first). */
  readonly events: Observable<LiveEvent>;
  readonly close: () => void;
}

export interface LiveOptions {
  readonly dirs: readonly string[];
  /** What the command read when it started (and checked): the first views, before any watcher reads. */
  readonly initial: readonly DirSnapshot[];
  readonly watch: WatchOptions;
  /** The queue's status as it changes (watchQueue), with --queue. */
  readonly queue?: Observable<QueueRead>;
}

const sameSteps = (a: ReadonlyMap<string, StepProgress>, b: ReadonlyMap<string, StepProgress>): boolean =>
  a.size === b.size && [...a].every(([id, s]) => {
    const t = b.get(id);
    return t !== undefined && t.epoch === s.epoch && t.step === s.step && t.steps === s.steps;
  });

type Input = { readonly kind: 'dir'; readonly index: number; readonly read: DirRead } | { readonly kind: 'queue'; readonly read: QueueRead };

export const startLive = (opts: LiveOptions): Live => {
  const events = new Subject<LiveEvent>();
  let steps: ReadonlyMap<string, StepProgress> = new Map();
  const reads: DirRead[] = opts.initial.map((s) => E.right(s));
  let views: DirView[] = opts.initial.map((s, i) => nextView(emptyView(i), E.right(s), steps));
  let queue: QueueView | null = opts.queue === undefined ? null : { version: 0, html: '<p>Reading the queue…</p>' };

  const update = (index: number): void => {
    const prev = views[index]!;
    const next = nextView(prev, reads[index]!, steps);
    if (next === prev) return;
    const change = viewChange(prev, next);
    views = views.map((v, i) => (i === index ? next : v));
    if (change !== null) events.next({ type: 'dir', ...change });
  };

  const inputs: Observable<Input> = merge(
    ...opts.dirs.map((dir, index) =>
      watchDir(dir, { ...opts.watch, ...(opts.initial[index] !== undefined ? { initial: opts.initial[index] } : {}) }).pipe(
        map((read): Input => ({ kind: 'dir', index, read })),
      ),
    ),
    opts.queue === undefined ? EMPTY : opts.queue.pipe(map((read): Input => ({ kind: 'queue', read }))),
  );
  const subscription = inputs.subscribe((input) => {
    if (input.kind === 'dir') {
      reads[input.index] = input.read;
      update(input.index);
      return;
    }
    const html = queueHtml(input.read);
    if (queue === null || html !== queue.html) {
      queue = { version: (queue?.version ?? 0) + 1, html };
      events.next({ type: 'queue', ...queue });
    }
    // Runs trained by the queue's workers show their step: every directory's rows may change.
    const nextSteps = queueSteps(input.read);
    if (!sameSteps(steps, nextSteps)) {
      steps = nextSteps;
      opts.dirs.forEach((_, i) => update(i));
    }
  });

  return {
    dirs: () => views,
    queue: () => queue,
    events: events.asObservable(),
    close: () => {
      subscription.unsubscribe();
      events.complete();
    },
  };
};
